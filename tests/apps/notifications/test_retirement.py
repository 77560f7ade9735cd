"""The retirement workflow, from the decision to `retired` on the sunset date, driven by the scheduled tasks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine

from apps.catalog.models import Lifecycle
from apps.catalog.tasks import data_products_retire_due_scheduled as data_products_retire_due_run
from apps.governance.services import alert_decide, decision_record
from apps.notifications.models import Delivery, DeliveryStatus, Event
from apps.notifications.selectors import late_costs_by_product
from apps.notifications.tasks import sunset_reminders_send
from tests import factories
from tests.apps.notifications.conftest import send_pending
from tests.apps.notifications.helpers import open_alert

TODAY = date(2026, 11, 2)
SUNSET = date(2026, 12, 2)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=ZoneInfo("UTC"))


def consumers(product) -> None:
    """alice (a user), data-team (two members, one without e-mail), ghost (nobody), bob (too long ago)."""
    factories.UserFactory(username="alice", email="alice@example.com")
    factories.UserFactory(username="dana", email="dana@example.com", team="data-team")
    factories.UserFactory(username="erin", email="", team="data-team")
    factories.UserFactory(username="bob", email="bob@example.com")
    for consumer, day in [
        ("alice", TODAY - timedelta(days=3)),
        ("data-team", TODAY - timedelta(days=80)),
        ("ghost", TODAY - timedelta(days=10)),
        ("bob", TODAY - timedelta(days=91)),
    ]:
        factories.UsageRecordFactory(data_product=product, consumer=consumer, day=day, count=4)


def test_from_decision_to_retired_with_notices_and_a_reminder(people, smtp_server, settings):
    settings.NOTIFICATION_SUNSET_REMINDER_DAYS = 7
    product = people["product"]
    consumers(product)
    with time_machine.travel(at(TODAY), tick=False):
        alert = open_alert(product)
        send_pending()  # the alert's own e-mails
        smtp_server.messages.clear()
        alert_decide(
            alert=alert, user=people["lead"], action="retire", rationale="Costs twice its value.", sunset_on=SUNSET
        )

        product.refresh_from_db()
        assert (product.lifecycle, product.sunset_on) == (Lifecycle.DEPRECATED, SUNSET)
        notices = Delivery.objects.filter(event=Event.RETIREMENT_NOTICE)
        assert sorted(notices.values_list("recipient", "status")) == sorted(
            [
                ("consumer:ghost", "skipped"),
                (f"user:{people['owner'].pk}", "pending"),
                (f"user:{user_id('alice')}", "pending"),
                (f"user:{user_id('dana')}", "pending"),
            ]
        )
        send_pending()

    recipients = sorted(message["To"] for message in smtp_server.messages)
    assert recipients == ["alice@example.com", "dana@example.com", "owner@example.com"]  # not bob, not erin
    notice = smtp_server.to("dana@example.com")[0]
    assert notice["Subject"] == "[meshvalue] Churn features will be retired on 2026-12-02"
    text = notice.get_body(("plain",)).get_content()
    assert "(through data-team) used it in the last 90 days" in text
    assert "Costs twice its value." in text
    assert "http://127.0.0.1:8000/products/churn-features/" in text
    ghost = Delivery.objects.get(event=Event.RETIREMENT_NOTICE, recipient="consumer:ghost")
    assert ghost.status == DeliveryStatus.SKIPPED
    assert ghost.last_error == "No user or team member named 'ghost' has an e-mail address."

    # The daily reminder job: nothing until seven days before the sunset, then once.
    smtp_server.messages.clear()
    for day in [SUNSET - timedelta(days=9), SUNSET - timedelta(days=8)]:
        with time_machine.travel(at(day), tick=False):
            assert sunset_reminders_send(day.isoformat()) == 0
    with time_machine.travel(at(SUNSET - timedelta(days=7)), tick=False):
        assert sunset_reminders_send((SUNSET - timedelta(days=7)).isoformat()) == 3
        send_pending()
    with time_machine.travel(at(SUNSET - timedelta(days=6)), tick=False):
        assert sunset_reminders_send((SUNSET - timedelta(days=6)).isoformat()) == 0
    assert sorted(message["To"] for message in smtp_server.messages) == [
        "alice@example.com",
        "dana@example.com",
        "owner@example.com",
    ]
    reminder = smtp_server.to("alice@example.com")[0]
    assert reminder["Subject"] == "[meshvalue] Reminder: Churn features retires on 2026-12-02"
    assert "in 7 days" in reminder.get_body(("plain",)).get_content()

    # The daily sunset job: not the day before, on the day yes, and again changes nothing.
    with time_machine.travel(at(SUNSET - timedelta(days=1)), tick=False):
        assert data_products_retire_due_run((SUNSET - timedelta(days=1)).isoformat()) == []
    product.refresh_from_db()
    assert product.lifecycle == Lifecycle.DEPRECATED
    with time_machine.travel(at(SUNSET), tick=False):
        assert data_products_retire_due_run(SUNSET.isoformat()) == [product.pk]
        assert data_products_retire_due_run(SUNSET.isoformat()) == []
    product.refresh_from_db()
    assert product.lifecycle == Lifecycle.RETIRED


def user_id(username: str) -> int:
    from apps.accounts.models import User

    return User.objects.get(username=username).pk


def test_no_reminder_when_the_decision_came_inside_the_reminder_window(people, settings):
    settings.NOTIFICATION_SUNSET_REMINDER_DAYS = 7
    product = people["product"]
    consumers(product)
    with time_machine.travel(at(TODAY), tick=False):
        decision_record(
            data_product=product,
            user=people["lead"],
            action="retire",
            rationale="Short notice.",
            sunset_on=TODAY + timedelta(days=5),
        )
        assert sunset_reminders_send(TODAY.isoformat()) == 0
        assert sunset_reminders_send((TODAY + timedelta(days=1)).isoformat()) == 0


def test_a_decision_other_than_retire_notifies_no_consumer(people):
    consumers(people["product"])
    decision_record(data_product=people["product"], user=people["lead"], action="keep", rationale="Still needed.")
    assert not Delivery.objects.filter(event=Event.RETIREMENT_NOTICE).exists()


def test_costs_recorded_after_the_sunset_are_flagged(people, django_assert_num_queries):
    product = people["product"]
    product.lifecycle, product.sunset_on = Lifecycle.RETIRED, date(2026, 3, 15)
    product.save()
    factories.CostEntryFactory(data_product=product, period_start=date(2026, 3, 1), amount=Decimal("100"))  # in time
    factories.CostEntryFactory(data_product=product, period_start=date(2026, 4, 1), amount=Decimal("250.50"))
    factories.CostEntryFactory(data_product=product, period_start=date(2026, 5, 1), amount=Decimal("10"))
    active = factories.DataProductFactory(domain=people["domain"])  # active products have no sunset to be late for
    factories.CostEntryFactory(data_product=active, period_start=date(2026, 5, 1))
    with django_assert_num_queries(1):
        late = late_costs_by_product([product.pk, active.pk])
    assert list(late) == [product.pk]
    flagged = late[product.pk]
    assert (flagged.total, flagged.entries, flagged.first_period) == (Decimal("260.50"), 2, date(2026, 4, 1))
    assert late_costs_by_product() == late
