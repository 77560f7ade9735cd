"""The admin: register webhooks with the same checks as the API; see deliveries; retry failed ones."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.notifications.models import DomainGovernanceLead, WebhookSubscription

PUBLIC = "https://93.184.215.14/hooks"


def test_adding_a_webhook_generates_and_shows_its_secret_once(client, admin_user, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    client.force_login(admin_user)
    add = reverse("admin:notifications_webhooksubscription_add")
    response = client.post(
        add,
        {"name": "ops", "url": PUBLIC, "secret": "", "format": "standard", "kinds": ["retire"], "is_active": "on"},
        follow=True,
    )
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret.startswith("whsec_") and subscription.kinds == ["retire"]
    assert subscription.created_by == admin_user
    assert subscription.secret in response.content.decode()  # the one time it is shown

    change = reverse("admin:notifications_webhooksubscription_change", args=[subscription.pk])
    assert subscription.secret not in client.get(change).content.decode()
    client.post(change, {"name": "ops 2", "url": PUBLIC, "secret": "", "format": "slack", "is_active": "on"})
    subscription.refresh_from_db()
    assert (subscription.name, subscription.format) == ("ops 2", "slack")
    assert subscription.secret.startswith("whsec_")  # blank keeps the current secret


@pytest.mark.parametrize(
    ("url", "secret", "message"),
    [
        ("http://169.254.169.254/latest/meta-data/", "", "loopback, link-local or private"),
        (PUBLIC, "hunter2", "must start with"),
    ],
)
def test_the_admin_refuses_what_the_api_refuses(client, admin_user, settings, url, secret, message):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:notifications_webhooksubscription_add"),
        {"url": url, "secret": secret, "format": "standard", "is_active": "on"},
    )
    assert response.status_code == 200 and message in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_every_notifications_admin_page_renders(client, admin_user, people):
    DomainGovernanceLead.objects.create(domain=people["other_domain"], user=people["lead"])
    client.force_login(admin_user)
    for model in ("delivery", "webhooksubscription", "domaingovernancelead", "notificationpreference"):
        assert client.get(reverse(f"admin:notifications_{model}_changelist")).status_code == 200, model
    assert client.get(reverse("admin:notifications_delivery_add")).status_code == 403  # the services write rows


def test_staff_without_the_permission_cannot_retry(client, people):
    from tests import factories

    staff = factories.UserFactory(username="viewer", is_staff=True)
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(Permission.objects.get(codename="view_delivery"))
    client.force_login(staff)
    page = client.get(reverse("admin:notifications_delivery_changelist")).content.decode()
    assert "retry_failed_deliveries" not in page
