"""Webhook subscriptions, payloads, Standard Webhooks signatures and the outbound HTTP client.

Signature (https://www.standardwebhooks.com): the receiver gets `webhook-id` (the delivery's
stable id: the same on every retry, so a repeat can be dropped), `webhook-timestamp` (Unix
seconds: refuse old ones to stop replays) and `webhook-signature`: `v1,` followed by the
base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the base64-decoded
part of the secret after `whsec_`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import transaction
from requests_hardened import Config, HTTPSession
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES

from apps.accounts.models import User
from apps.catalog.models import Domain
from apps.governance.models import Alert, AlertKind
from apps.notifications.models import WebhookFormat, WebhookSubscription

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret
USER_AGENT = "meshvalue-webhooks/1"


# --- secrets and signatures -----------------------------------------------------------


def webhook_secret_generate() -> str:
    """A new secret in the Standard Webhooks form: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_secret_key(secret: str) -> bytes:
    """The HMAC key of a secret; raises ValidationError when it is not `whsec_` + base64 of 24-64 bytes."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValidationError(f"The secret must start with {SECRET_PREFIX!r}; leave it out to have one generated.")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValidationError("The secret after 'whsec_' must be base64.") from error
    if not 24 <= len(key) <= 64:
        raise ValidationError("The secret must encode between 24 and 64 random bytes.")
    return key


def webhook_signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for a body."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(webhook_secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


# --- targets --------------------------------------------------------------------------


def _address_forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:  # ::ffff:127.0.0.1 is 127.0.0.1
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or any(ip in network for network in EXTRA_BLOCKED_NET_RANGES)
    )


def webhook_url_check(url: str) -> str:
    """Validate a webhook target at registration; returns the URL or raises ValidationError.

    http(s) only, no credentials in the URL, and, unless `WEBHOOK_ALLOW_PRIVATE_TARGETS`, a
    host whose every address is public. The check runs again at send time on the address
    actually connected to (see `webhook_post`), because DNS can change in between.
    """
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as error:
        raise ValidationError("Enter an http:// or https:// URL.") from error
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise ValidationError("Put no credentials in the URL; the signature authenticates meshvalue.")
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return url
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    except (OSError, ValueError, UnicodeError) as error:
        raise ValidationError(f"The host {host!r} cannot be resolved.") from error
    if not addresses or any(_address_forbidden(address) for address in addresses):
        raise ValidationError(
            "The URL points at a loopback, link-local or private address; webhooks go to public receivers only."
        )
    return url


def webhook_http_session() -> requests.Session:
    """An HTTP client that never follows redirects, always times out and, unless allowed, refuses
    private, loopback and link-local targets after DNS resolution, on the address it connects to."""
    session = HTTPSession(
        Config(
            ip_filter_enable=not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS,
            ip_filter_allow_loopback_ips=False,
            never_redirect=True,
            default_timeout=(settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT),
            user_agent_override=USER_AGENT,
        )
    )
    # No proxies or .netrc from the environment: a proxy would connect on our behalf, past the filter.
    session.trust_env = False
    return session


def webhook_post(*, url: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    """POST a signed body; raises requests exceptions (InvalidIPAddress for a refused target)."""
    with webhook_http_session() as session:
        return session.post(url, data=body, headers={"Content-Type": "application/json", **headers})


# --- payloads -------------------------------------------------------------------------


def _figures(alert: Alert) -> dict | None:
    evaluation = alert.evaluation
    if evaluation is None:
        return None
    return {
        "id": evaluation.pk,
        "as_of": evaluation.as_of,
        "value": evaluation.value,
        "cost": evaluation.cost,
        "ratio": evaluation.ratio,
        "net": evaluation.net,
        "recent_value": evaluation.recent_value,
        "recent_cost": evaluation.recent_cost,
        "recent_ratio": evaluation.recent_ratio,
        "recommendation": evaluation.recommendation,
        "reasons": evaluation.reasons,
        "signals": evaluation.signals,
        "window_days": evaluation.window_days,
        "recent_days": evaluation.recent_days,
    }


def alert_event_data(*, alert: Alert, link: str) -> dict:
    """What a receiver learns about an opened alert: the alert, its product, the evaluation."""
    product = alert.data_product
    return {
        "alert": {
            "id": alert.pk,
            "kind": alert.kind,
            "status": alert.status,
            "message": alert.message,
            "opened_on": alert.opened_on,
            "url": link,
        },
        "data_product": {
            "id": product.pk,
            "name": product.name,
            "slug": product.slug,
            "lifecycle": product.lifecycle,
            "domain": {"id": product.domain_id, "name": product.domain.name, "slug": product.domain.slug},
            "owner": {"id": product.owner_id, "username": product.owner.username},
        },
        "evaluation": _figures(alert),
        "currency": settings.MESHVALUE_CURRENCY,
    }


def _slack_escape(text: str) -> str:
    """Text Slack shows as typed: its only control characters are `&`, `<` and `>`.

    Unescaped, a product named `<!channel>` would ping the whole channel (Slack's "Escaping text").
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def alert_slack_message(*, alert: Alert, link: str) -> dict:
    """The same event as a Slack incoming-webhook message (text plus Block Kit blocks)."""
    product = alert.data_product
    title = f"{alert.get_kind_display()} alert on {product.name} ({product.domain.name})"
    lines = [f"*{_slack_escape(title)}*", _slack_escape(alert.message)]
    fields = []
    evaluation = alert.evaluation
    if evaluation is not None:
        currency = settings.MESHVALUE_CURRENCY
        fields = [
            {"type": "mrkdwn", "text": f"*Value*\n{evaluation.value} {currency}"},
            {"type": "mrkdwn", "text": f"*Cost*\n{evaluation.cost} {currency}"},
            {"type": "mrkdwn", "text": f"*Value/cost*\n{evaluation.ratio if evaluation.ratio is not None else '-'}"},
            {"type": "mrkdwn", "text": f"*Recent value/cost*\n{evaluation.recent_ratio or '-'}"},
        ]
        # A recommendation's message already lists its reasons: show only those it does not say.
        lines += [
            f"• {_slack_escape(str(reason))}" for reason in evaluation.reasons or [] if str(reason) not in alert.message
        ]
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}]
    if fields:
        blocks.append({"type": "section", "fields": fields})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|Open the alert>"}]})
    # `text` is the notification's fallback and is parsed like any message: escaped as well.
    return {"text": _slack_escape(f"{title}: {alert.message}"), "blocks": blocks}


def webhook_body(*, subscription: WebhookSubscription, event_type: str, data: dict, slack: dict, sent_at) -> bytes:
    """The exact bytes sent (and signed) for a subscription's format."""
    if subscription.format == WebhookFormat.SLACK:
        document = slack
    else:
        document = {"type": event_type, "timestamp": sent_at, "data": data}
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True).encode()


# --- subscriptions --------------------------------------------------------------------


def _kinds_clean(kinds: Iterable[str] | None) -> list[str]:
    kinds = list(kinds or [])
    unknown = sorted(set(kinds) - set(AlertKind.values))
    if unknown:
        raise ValidationError({"kinds": f"Unknown alert kind(s): {', '.join(unknown)}."})
    return sorted(set(kinds))


def _subscription_errors(*, url: str, secret: str, fmt: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, check, value in (("url", webhook_url_check, url), ("secret", webhook_secret_key, secret)):
        try:
            check(value)
        except ValidationError as error:
            errors[name] = error.messages
    if fmt not in WebhookFormat.values:
        errors["format"] = [f"Choose one of: {', '.join(WebhookFormat.values)}."]
    return errors


@transaction.atomic
def webhook_subscription_create(
    *,
    user: User | None,
    url: str,
    secret: str | None = None,
    name: str = "",
    format: str = WebhookFormat.STANDARD,
    kinds: Iterable[str] | None = None,
    domains: Iterable[Domain] | None = None,
    is_active: bool = True,
) -> WebhookSubscription:
    """Register a webhook receiver; a secret is generated when none is given."""
    secret = secret or webhook_secret_generate()
    errors = _subscription_errors(url=url, secret=secret, fmt=format)
    try:
        kinds = _kinds_clean(kinds)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    subscription = WebhookSubscription(
        name=name.strip(),
        url=url.strip(),
        secret=secret,
        format=format,
        kinds=kinds,
        is_active=is_active,
        created_by=user,
    )
    subscription.full_clean()
    subscription.save()
    if domains:
        subscription.domains.set(domains)
    return subscription


_UNSET = object()


@transaction.atomic
def webhook_subscription_update(
    *,
    subscription: WebhookSubscription,
    url=_UNSET,
    secret=_UNSET,
    name=_UNSET,
    format=_UNSET,
    kinds=_UNSET,
    domains=_UNSET,
    is_active=_UNSET,
) -> WebhookSubscription:
    """Change a subscription; only the arguments given change. A new URL is checked again."""
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    new_url = subscription.url if url is _UNSET else url
    new_secret = subscription.secret if secret is _UNSET or not secret else secret
    new_format = subscription.format if format is _UNSET else format
    errors = _subscription_errors(url=new_url, secret=new_secret, fmt=new_format)
    if url is _UNSET:
        errors.pop("url", None)  # an unchanged URL was checked when it was set
    new_kinds = subscription.kinds
    if kinds is not _UNSET:
        try:
            new_kinds = _kinds_clean(kinds)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    subscription.url = new_url.strip()
    subscription.secret = new_secret
    subscription.format = new_format
    subscription.kinds = new_kinds
    if name is not _UNSET:
        subscription.name = (name or "").strip()
    if is_active is not _UNSET:
        subscription.is_active = bool(is_active)
    subscription.full_clean()
    subscription.save()
    if domains is not _UNSET:
        subscription.domains.set(domains or [])
    return subscription


@transaction.atomic
def webhook_subscription_delete(*, subscription: WebhookSubscription) -> None:
    """Remove a subscription; its delivery history stays, detached from it."""
    WebhookSubscription.objects.filter(pk=subscription.pk).delete()
