"""What each notification says: e-mails rendered from templates, links back into meshvalue."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
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


def email_message(delivery: Delivery, *, to: str, connection=None) -> EmailMultiAlternatives:
    """The e-mail for a delivery. Its Message-ID is the delivery's uid, the same on every retry."""
    rendered = email_render(delivery)
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "Message-ID": f"<{delivery.uid}@meshvalue>",
            "X-Meshvalue-Event": delivery.event,
            "Auto-Submitted": "auto-generated",
        },
        connection=connection,
    )
    message.attach_alternative(rendered.html, "text/html")
    return message


EVENT_TYPES = {Event.ALERT_OPENED: "alert.opened"}
