"""Alert e-mails: one message per person per evaluation run listing its alerts, never an alert twice,
with List-Unsubscribe headers and a fully qualified Message-ID."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from apps.governance.models import Alert, AlertKind
from apps.notifications.models import Channel, Delivery, DeliveryStatus
from apps.notifications.services import alerts_opened_notify
from apps.notifications.services.messages import message_id_domain
from apps.notifications.services.sending import delivery_send
from tests import factories
from tests.apps.notifications.conftest import free_port, send_pending


def open_alerts(products, *, batch_key: str = "", kinds=(AlertKind.RETIRE,)) -> list[Alert]:
    """Open alerts on `products` in one transaction, as one evaluation chunk does."""
    with transaction.atomic():
        alerts = [
            Alert.objects.create(
                data_product=product, kind=kind, message=f"{kind} on {product.name}", opened_on=date(2026, 11, 2)
            )
            for product in products
            for kind in kinds
        ]
        alerts_opened_notify(alert_ids=[alert.pk for alert in alerts], batch_key=batch_key)
    return alerts


@pytest.fixture
def products(people):
    second = factories.DataProductFactory(
        name="Orders mart", slug="orders-mart", domain=people["domain"], owner=people["owner"]
    )
    return [people["product"], second]


def test_one_message_per_person_lists_all_their_alerts(people, products, smtp_server):
    alerts = open_alerts(products, kinds=(AlertKind.RETIRE, AlertKind.STALE_KPI))

    send_pending()

    # The lead and the owner of both products hear of all four alerts: one message each.
    assert sorted(message["To"] for message in smtp_server.messages) == ["lead@example.com", "owner@example.com"]
    [to_lead] = smtp_server.to("lead@example.com")
    assert to_lead["Subject"].startswith("[meshvalue] 4 new alerts: ")
    text = to_lead.get_body(preferencelist=("plain",)).get_content()
    for alert in alerts:
        assert f"http://127.0.0.1:8000/inbox/alerts/{alert.pk}/" in text
    html = to_lead.get_body(preferencelist=("html",)).get_content()
    assert f'href="http://127.0.0.1:8000/inbox/alerts/{alerts[0].pk}/"' in html
    # Each (alert, person) row is still the record that this alert reached this person.
    email_rows = Delivery.objects.filter(channel=Channel.EMAIL)
    assert email_rows.count() == 8
    assert set(email_rows.values_list("status", flat=True)) == {DeliveryStatus.SENT}

    # The hook again, or every row's message again, sends nothing more.
    alerts_opened_notify(alert_ids=[alert.pk for alert in alerts])
    assert {delivery_send(delivery_id=row.pk).status for row in email_rows} == {DeliveryStatus.SENT}
    assert len(smtp_server.messages) == 2


def test_chunks_of_one_run_share_a_message_and_later_ones_get_their_own(people, products, smtp_server):
    first = open_alerts(products[:1], batch_key="run:7")
    second = open_alerts(products[1:], batch_key="run:7")
    send_pending()
    assert len(smtp_server.to("lead@example.com")) == 1  # both chunks committed before the send

    # A chunk that commits after the run's message left gets a message of its own: never lost, never twice.
    third = open_alerts(
        [factories.DataProductFactory(domain=people["domain"], owner=people["owner"])], batch_key="run:7"
    )
    send_pending()
    messages = smtp_server.to("lead@example.com")
    assert len(messages) == 2
    later = messages[1].get_body(preferencelist=("plain",)).get_content()
    assert f"/inbox/alerts/{third[0].pk}/" in later
    assert f"/inbox/alerts/{first[0].pk}/" not in later and f"/inbox/alerts/{second[0].pk}/" not in later


def test_a_failed_batch_is_retried_whole_and_sent_once(people, products, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens there
    open_alerts(products)
    lead_rows = Delivery.objects.filter(channel=Channel.EMAIL, user=people["lead"]).order_by("pk")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        result = delivery_send(delivery_id=lead_rows[0].pk)
    assert result.status == DeliveryStatus.PENDING and result.retry_in is not None
    # Both rows of the batch were attempted together and wait for the same retry.
    assert [row.attempts for row in lead_rows] == [1, 1]
    assert len({row.next_attempt_at for row in lead_rows}) == 1
    assert all("ConnectionRefused" in row.last_error for row in lead_rows)


def test_a_row_held_by_another_sender_is_not_sent_again(people, products, smtp_server):
    open_alerts(products)
    lead_rows = list(Delivery.objects.filter(channel=Channel.EMAIL, user=people["lead"]).order_by("alert_id"))
    # A live sender holds the second row (its lease runs): the first goes out alone.
    Delivery.objects.filter(pk=lead_rows[1].pk).update(
        status=DeliveryStatus.SENDING, attempts=1, lease_expires_at=timezone.now() + timedelta(seconds=120)
    )
    assert delivery_send(delivery_id=lead_rows[0].pk).status == DeliveryStatus.SENT
    assert delivery_send(delivery_id=lead_rows[1].pk).status == "busy"
    [message] = smtp_server.to("lead@example.com")
    assert message["Subject"] == "[meshvalue] Retire alert: Churn features"


def test_email_headers_unsubscribe_and_fully_qualified_message_id(people, smtp_server, settings):
    settings.MESHVALUE_BASE_URL = "https://meshvalue.example.com"
    open_alerts([people["product"]])
    send_pending()
    [message] = smtp_server.to("owner@example.com")
    assert message["List-Unsubscribe"] == "<https://meshvalue.example.com/profile/notifications/>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    delivery = Delivery.objects.get(channel=Channel.EMAIL, user=people["owner"])
    assert message["Message-ID"] == f"<{delivery.uid}@meshvalue.example.com>"


@pytest.mark.parametrize(
    ("base_url", "configured", "expected"),
    [
        ("https://value.corp.example/", "", "value.corp.example"),
        ("http://127.0.0.1:8000", "mail.example.org", "mail.example.org"),
        ("https://value.corp.example", "mail.example.org", "mail.example.org"),
    ],
)
def test_message_id_domain(settings, base_url, configured, expected):
    settings.MESHVALUE_BASE_URL, settings.MESHVALUE_MESSAGE_ID_DOMAIN = base_url, configured
    assert message_id_domain() == expected


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"])
def test_message_id_domain_is_dotted_even_for_a_local_base_url(settings, base_url):
    settings.MESHVALUE_BASE_URL, settings.MESHVALUE_MESSAGE_ID_DOMAIN = base_url, ""
    domain = message_id_domain()
    assert "." in domain and domain not in {"127.0.0.1", "localhost"}
