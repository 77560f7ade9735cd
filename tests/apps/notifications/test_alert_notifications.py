"""An alert that opens reaches its people once: e-mail over real SMTP, a signed webhook over real HTTP."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from apps.accounts.roles import Role
from apps.governance.models import Alert, AlertKind
from apps.notifications.models import Channel, Delivery, DeliveryStatus, DomainGovernanceLead
from apps.notifications.services import alerts_opened_notify
from apps.notifications.services.preferences import notification_preferences_set
from tests import factories
from tests.apps.notifications.conftest import send_pending, verify_signature
from tests.apps.notifications.helpers import evaluation_for, open_alert, subscribe


def test_an_opened_alert_sends_one_email_per_person_and_one_signed_webhook(people, smtp_server, http_receiver):
    subscription = subscribe(http_receiver)
    product = people["product"]
    alert = open_alert(product, evaluation=evaluation_for(product))

    assert send_pending() == ["sent", "sent", "sent"]

    # E-mail: the domain's governance lead and the product's owner, nobody else.
    assert sorted(message["To"] for message in smtp_server.messages) == ["lead@example.com", "owner@example.com"]
    message = smtp_server.to("lead@example.com")[0]
    assert message["Subject"] == "[meshvalue] Retire alert: Churn features"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "value/cost 0.54 below 1.00 over 365 days" in text  # the alert's message and the evaluation's reasons
    assert "Value over 365 days: €5,400.00" in text
    assert "Recent value/cost" not in text or "0.8100" in text
    assert f"http://127.0.0.1:8000/inbox/alerts/{alert.pk}/" in text
    assert "governance lead of Sales" in text
    assert "you own Churn features" in smtp_server.to("owner@example.com")[0].get_body(("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f'href="http://127.0.0.1:8000/inbox/alerts/{alert.pk}/"' in html

    # Webhook: one POST, signed so that the receiver can verify it.
    [request] = http_receiver.requests
    verify_signature(request, subscription.secret)
    event = json.loads(request.body)
    assert event["type"] == "alert.opened"
    assert event["data"]["alert"] == {
        "id": alert.pk,
        "kind": "retire",
        "status": "open",
        "message": alert.message,
        "opened_on": "2026-11-02",
        "url": f"http://127.0.0.1:8000/inbox/alerts/{alert.pk}/",
    }
    assert event["data"]["data_product"]["slug"] == "churn-features"
    assert event["data"]["data_product"]["domain"]["name"] == "Sales"
    assert event["data"]["evaluation"]["ratio"] == "0.5400"
    assert event["data"]["evaluation"]["reasons"][0] == "value/cost 0.54 below 1.00 over 365 days"

    # The same alert never notifies twice, however often the hook is called or the sender runs.
    alerts_opened_notify(alert_ids=[alert.pk])
    assert send_pending(rounds=2) == []
    assert len(smtp_server.messages) == 2
    assert len(http_receiver.requests) == 1
    assert Delivery.objects.filter(alert=alert, status=DeliveryStatus.SENT).count() == 3


def test_a_tampered_body_fails_verification(people, http_receiver):
    subscription = subscribe(http_receiver)
    open_alert(people["product"])
    send_pending()
    [request] = http_receiver.requests
    request.body = request.body.replace(b'"retire"', b'"invest"')
    with pytest.raises(AssertionError, match="bad signature"):
        verify_signature(request, subscription.secret)


def test_slack_format_posts_a_slack_message(people, http_receiver):
    subscribe(http_receiver, format="slack")
    product = people["product"]
    alert = open_alert(product, evaluation=evaluation_for(product))
    send_pending()
    [request] = http_receiver.requests
    message = json.loads(request.body)
    assert message["text"].startswith("Retire alert on Churn features (Sales)")
    assert message["blocks"][-1]["elements"][0]["text"] == (
        f"<http://127.0.0.1:8000/inbox/alerts/{alert.pk}/|Open the alert>"
    )
    assert "webhook-signature" in request.headers


def test_slack_text_is_escaped_and_says_each_reason_once(people, http_receiver):
    subscribe(http_receiver, format="slack")
    product = people["product"]
    product.name = "<!channel> Churn & <b>co</b>"
    product.save()
    evaluation = evaluation_for(product)
    with transaction.atomic():
        alert = Alert.objects.create(
            data_product=product,
            kind=AlertKind.RETIRE,
            evaluation=evaluation,
            message="Retire: " + "; ".join(evaluation.reasons) + ".",
            opened_on=date(2026, 11, 2),
        )
        alerts_opened_notify(alert_ids=[alert.pk])
    send_pending()
    [request] = http_receiver.requests
    message = json.loads(request.body)
    assert "<!channel>" not in request.body.decode()
    assert message["text"].startswith("Retire alert on &lt;!channel&gt; Churn &amp; &lt;b&gt;co&lt;/b&gt; (Sales): ")
    summary = message["blocks"][0]["text"]["text"]
    for reason in evaluation.reasons:
        assert summary.count(reason) == 1, summary
        assert message["text"].count(reason) == 1


def test_a_user_who_turned_off_a_kind_gets_no_email_of_that_kind_only(people, smtp_server):
    notification_preferences_set(user=people["owner"], email_topics=[k for k in AlertKind.values if k != "retire"])
    open_alert(people["product"], kind=AlertKind.RETIRE)
    open_alert(people["product"], kind=AlertKind.STALE_KPI)
    send_pending()
    subjects = [message["Subject"] for message in smtp_server.to("owner@example.com")]
    assert subjects == ["[meshvalue] Stale KPI alert: Churn features"]
    assert len(smtp_server.to("lead@example.com")) == 2


def email_recipients(alert) -> set[str]:
    return set(Delivery.objects.filter(alert=alert, channel=Channel.EMAIL).values_list("user__username", flat=True))


def test_governance_leads_of_a_domain(people):
    product = people["product"]
    # Domain owner in the governance group: only them, not the other domain's lead.
    alert = open_alert(product)
    recipients = email_recipients(alert)
    assert recipients == {"lead", "owner"}

    # A lead tied to the domain joins; a tie to someone outside the group counts for nothing.
    DomainGovernanceLead.objects.create(domain=people["domain"], user=people["other_lead"])
    DomainGovernanceLead.objects.create(domain=people["domain"], user=factories.UserFactory(username="not-a-lead"))
    alert = open_alert(product, kind=AlertKind.ORPHANED)
    recipients = email_recipients(alert)
    assert recipients == {"lead", "other-lead", "owner"}


def test_a_domain_without_its_own_lead_reaches_every_governance_lead(people):
    unled = factories.DomainFactory(name="Ops", slug="ops", owner=people["owner"])
    product = factories.DataProductFactory(domain=unled, owner=people["owner"])
    alert = open_alert(product)
    recipients = email_recipients(alert)
    assert recipients == {"lead", "other-lead", "owner"}


def test_a_person_without_email_is_recorded_as_skipped(people):
    people["owner"].email = ""
    people["owner"].save()
    alert = open_alert(people["product"])
    skipped = Delivery.objects.get(alert=alert, user=people["owner"])
    assert skipped.status == DeliveryStatus.SKIPPED
    assert "e-mail address" in skipped.last_error


def test_subscriptions_filter_by_kind_and_domain(people, http_receiver):
    subscribe(http_receiver, name="retire only", kinds=["retire"])
    subscribe(http_receiver, name="finance only", domains=[people["other_domain"]])
    subscribe(http_receiver, name="everything")
    paused = subscribe(http_receiver, name="paused")
    paused.is_active = False
    paused.save()
    retire = open_alert(people["product"], kind=AlertKind.RETIRE)
    invest = open_alert(people["product"], kind=AlertKind.INVEST)
    names = lambda alert: set(  # noqa: E731
        Delivery.objects.filter(alert=alert, channel=Channel.WEBHOOK).values_list("subscription__name", flat=True)
    )
    assert names(retire) == {"retire only", "everything"}
    assert names(invest) == {"everything"}


def test_many_alerts_cost_a_fixed_number_of_queries(people, django_assert_max_num_queries, http_receiver):
    subscribe(http_receiver)
    products = [factories.DataProductFactory(domain=people["domain"]) for _ in range(30)]
    group = Group.objects.get(name=Role.GOVERNANCE_LEAD.value)
    for index in range(5):
        group.user_set.add(factories.UserFactory(username=f"lead{index}"))
    from apps.governance.models import Alert

    alerts = [
        Alert.objects.create(data_product=product, kind="retire", message="m", opened_on="2026-11-02")
        for product in products
    ]
    with django_assert_max_num_queries(12):
        created = alerts_opened_notify(alert_ids=[alert.pk for alert in alerts])
    assert len(created) == 30 * 3  # lead, the product's owner, the webhook
