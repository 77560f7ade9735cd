"""What each notification says: e-mails rendered from templates, links back into meshvalue."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse

from apps.notifications.models import Delivery, Event


def absolute(path: str) -> str:
    """A link that works from a mail client: the public base URL plus a path."""
    return f"{settings.MESHVALUE_BASE_URL}{path}"


def _reverse_or(name: str, args: list, fallback: str) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # the page's app is not installed (e.g. an API-only deployment)
        return fallback


def alert_link(alert_id: int) -> str:
    return absolute(_reverse_or("alert_detail", [alert_id], f"/inbox/alerts/{alert_id}/"))


def product_link(slug: str) -> str:
    return absolute(_reverse_or("product_detail", [slug], f"/products/{slug}/"))


def preferences_link() -> str:
    return absolute(_reverse_or("notification_preferences", [], "/profile/notifications/"))


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _context(delivery: Delivery) -> dict:
    context: dict = {
        "delivery": delivery,
        "user": delivery.user,
        "payload": delivery.payload,
        "currency": settings.MESHVALUE_CURRENCY,
        "preferences_link": preferences_link(),
        "base_url": settings.MESHVALUE_BASE_URL,
    }
    if delivery.alert is not None:
        alert = delivery.alert
        context.update(
            alert=alert,
            product=alert.data_product,
            evaluation=alert.evaluation,
            link=alert_link(alert.pk),
            is_owner=delivery.user_id == alert.data_product.owner_id,
        )
    if delivery.decision is not None:
        context.update(decision=delivery.decision, product=delivery.decision.data_product)
    if delivery.data_product is not None:
        context.setdefault("product", delivery.data_product)
    if "product" in context and "link" not in context:
        context["link"] = product_link(context["product"].slug)
    return context


def email_render(delivery: Delivery) -> RenderedEmail:
    """Subject, plain text and HTML of an e-mail delivery, from `notifications/email/<event>.*`."""
    context = _context(delivery)
    base = f"notifications/email/{delivery.event}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    return RenderedEmail(
        subject=subject[:200],
        text=render_to_string(f"{base}.txt", context),
        html=render_to_string(f"{base}.html", context),
    )


def _batch_render(deliveries: Sequence[Delivery]) -> RenderedEmail:
    """One e-mail listing the alerts of several deliveries to the same person (one evaluation run)."""
    context = _context(deliveries[0])
    context["items"] = [
        {
            "alert": row.alert,
            "product": row.alert.data_product,
            "evaluation": row.alert.evaluation,
            "link": alert_link(row.alert.pk),
            "is_owner": row.user_id == row.alert.data_product.owner_id,
        }
        for row in sorted(deliveries, key=lambda row: row.alert_id or 0)
        if row.alert is not None
    ]
    base = "notifications/email/alerts_opened_batch"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    return RenderedEmail(
        subject=subject[:200],
        text=render_to_string(f"{base}.txt", context),
        html=render_to_string(f"{base}.html", context),
    )


def message_id_domain() -> str:
    """The fully qualified domain of our Message-IDs (RFC 5322 wants one the sender controls).

    `MESHVALUE_MESSAGE_ID_DOMAIN` if set, else the host of `MESHVALUE_BASE_URL` when it is a
    dotted name, else this machine's fully qualified name, else the reserved `meshvalue.invalid`.
    """
    configured = getattr(settings, "MESHVALUE_MESSAGE_ID_DOMAIN", "")
    if configured:
        return configured
    host = urlsplit(settings.MESHVALUE_BASE_URL).hostname or ""
    try:
        ipaddress.ip_address(host)
        host = ""
    except ValueError:
        pass
    for candidate in (host, str(DNS_NAME)):
        if "." in candidate.strip("."):
            return candidate.strip(".")
    return "meshvalue.invalid"


def email_message(deliveries: Sequence[Delivery], *, to: str, connection=None) -> EmailMultiAlternatives:
    """The e-mail for one delivery, or for a batch of alert deliveries to one person (one message).

    Its Message-ID is the first delivery's uid, the same on every retry. Every message carries
    List-Unsubscribe (the notification settings page) and the one-click header of RFC 8058.
    """
    delivery = deliveries[0]
    rendered = email_render(delivery) if len(deliveries) == 1 else _batch_render(deliveries)
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "Message-ID": f"<{delivery.uid}@{message_id_domain()}>",
            "X-Meshvalue-Event": delivery.event,
            "Auto-Submitted": "auto-generated",
            "List-Unsubscribe": f"<{preferences_link()}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        connection=connection,
    )
    message.attach_alternative(rendered.html, "text/html")
    return message


EVENT_TYPES = {Event.ALERT_OPENED: "alert.opened"}
