"""`/api/v1/webhooks/`: governance leads and admins register receivers; bad input is a 400 per field."""

from __future__ import annotations

import pytest

from apps.notifications.models import WebhookSubscription
from apps.notifications.services.webhooks import webhook_secret_generate

URL = "/api/v1/webhooks/"
PUBLIC = "https://93.184.215.14/hooks/meshvalue"


def test_anonymous_users_are_refused(api_client, db):
    assert api_client.get(URL).status_code == 401
    assert api_client.post(URL, {"url": PUBLIC}, format="json").status_code == 401


@pytest.mark.parametrize("role", ["executive", "product_owner"])
def test_other_roles_may_neither_read_nor_write(db, api_client, request, role):
    api_client.force_authenticate(request.getfixturevalue(role))
    assert api_client.get(URL).status_code == 403
    assert api_client.post(URL, {"url": PUBLIC}, format="json").status_code == 403
    assert not WebhookSubscription.objects.exists()


def test_a_governance_lead_registers_a_webhook_and_sees_its_secret_once(api_client, governance_lead, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    api_client.force_authenticate(governance_lead)
    response = api_client.post(
        URL, {"name": "data-gov", "url": PUBLIC, "kinds": ["retire", "invest"], "format": "slack"}, format="json"
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert (created["kinds"], created["domains"], created["format"]) == (["invest", "retire"], [], "slack")
    assert created["created_by"] == governance_lead.pk

    listed = api_client.get(URL).json()["results"]
    assert [item["id"] for item in listed] == [created["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in api_client.get(f"{URL}{created['id']}/").json()


def test_a_chosen_secret_and_domains_are_kept(api_client, governance_lead):
    from tests import factories

    domain = factories.DomainFactory()
    secret = webhook_secret_generate()
    api_client.force_authenticate(governance_lead)
    response = api_client.post(URL, {"url": PUBLIC, "secret": secret, "domains": [domain.pk]}, format="json")
    assert response.status_code == 201
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret == secret
    assert list(subscription.domains.values_list("pk", flat=True)) == [domain.pk]


def test_bad_input_gets_a_message_per_field_and_stores_nothing(api_client, governance_lead, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    api_client.force_authenticate(governance_lead)
    response = api_client.post(
        URL,
        {
            "url": "http://169.254.169.254/latest/meta-data/",
            "secret": "hunter2",
            "kinds": ["retire", "lottery"],
            "format": "xml",
            "domains": [999999],
        },
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) >= {"url", "secret", "kinds", "format", "domains"}
    assert "loopback, link-local or private" in errors["url"][0]
    assert not WebhookSubscription.objects.exists()

    for body in [{}, {"url": ""}, {"url": "ftp://x.example/"}, {"url": PUBLIC, "kinds": "retire"}, []]:
        assert api_client.post(URL, body, format="json").status_code == 400, body
    assert not WebhookSubscription.objects.exists()


def test_update_and_delete(api_client, governance_lead, admin_user, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    api_client.force_authenticate(governance_lead)
    created = api_client.post(URL, {"url": PUBLIC}, format="json").json()
    detail = f"{URL}{created['id']}/"
    secret = WebhookSubscription.objects.get().secret

    response = api_client.patch(detail, {"is_active": False, "kinds": ["orphaned"]}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert api_client.patch(detail, {"url": "http://127.0.0.1:9/"}, format="json").status_code == 400
    subscription = WebhookSubscription.objects.get()
    assert (subscription.url, subscription.kinds, subscription.secret) == (PUBLIC, ["orphaned"], secret)

    api_client.force_authenticate(admin_user)
    assert api_client.delete(detail).status_code == 204
    assert not WebhookSubscription.objects.exists()
