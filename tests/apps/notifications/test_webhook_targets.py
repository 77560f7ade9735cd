"""Webhooks cannot be pointed at internal services: checked at registration and again when sending."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.notifications.models import Channel, Delivery, DeliveryStatus
from apps.notifications.services.sending import delivery_send
from apps.notifications.services.webhooks import (
    webhook_secret_generate,
    webhook_secret_key,
    webhook_subscription_create,
    webhook_url_check,
)
from tests.apps.notifications.helpers import open_alert, subscribe

INTERNAL_TARGETS = [
    "http://127.0.0.1/hook",
    "http://127.8.9.10:8080/hook",
    "http://localhost:8000/hook",  # a name that resolves to loopback
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4 loopback in IPv6 clothing
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata, link-local
    "http://10.1.2.3/hook",
    "http://172.16.0.5/hook",
    "http://192.168.1.20/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://0.0.0.0/hook",
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
]


@pytest.mark.parametrize("url", INTERNAL_TARGETS)
def test_registration_refuses_internal_targets(url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(ValidationError, match="loopback, link-local or private"):
        webhook_url_check(url)


def test_registration_accepts_a_public_address(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    assert webhook_url_check("https://93.184.215.14/hooks") == "https://93.184.215.14/hooks"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/hook", "http:// or https://"),
        ("not a url", "http:// or https://"),
        ("https://user:password@93.184.215.14/hook", "no credentials"),
        ("", "http:// or https://"),
    ],
)
def test_registration_refuses_malformed_urls(url, message):
    with pytest.raises(ValidationError, match=message):
        webhook_url_check(url)


def test_loopback_is_allowed_only_when_the_setting_says_so(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    assert webhook_url_check("http://127.0.0.1:9/hook") == "http://127.0.0.1:9/hook"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_sending_checks_the_target_again_after_resolving_it(people, http_receiver, settings, host):
    """A subscription registered while allowed (or whose DNS changed since) is refused at send time."""
    subscription = subscribe(http_receiver)
    subscription.url = subscription.url.replace("127.0.0.1", host)
    subscription.save()
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    delivery = Delivery.objects.get(alert=open_alert(people["product"]), channel=Channel.WEBHOOK)
    assert delivery_send(delivery_id=delivery.pk).status == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("Refused: the target resolves to a non-public address")
    assert http_receiver.requests == []  # not a single byte reached it


def test_generated_secrets_are_standard_webhooks_secrets():
    secret = webhook_secret_generate()
    assert secret.startswith("whsec_") and len(webhook_secret_key(secret)) == 32
    assert webhook_secret_generate() != secret


@pytest.mark.parametrize(
    ("secret", "message"),
    [("hunter2", "must start with"), ("whsec_!!!", "base64"), ("whsec_c2hvcnQ=", "between 24 and 64")],
)
def test_bad_secrets_are_refused(db, secret, message):
    with pytest.raises(ValidationError) as error:
        webhook_subscription_create(user=None, url="https://93.184.215.14/hook", secret=secret)
    assert message in str(error.value.message_dict["secret"])


def test_bad_kinds_and_formats_are_refused_per_field(db):
    with pytest.raises(ValidationError) as error:
        webhook_subscription_create(user=None, url="https://93.184.215.14/hook", kinds=["retire", "nope"], format="xml")
    assert set(error.value.message_dict) == {"kinds", "format"}
