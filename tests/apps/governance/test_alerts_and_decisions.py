"""Alerts and decisions: the constraints and the services that act on them."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.catalog.models import Lifecycle
from apps.governance.models import AlertStatus, Decision
from apps.governance.services import alert_acknowledge, alert_decide, alert_snooze
from apps.valuation.models import Evaluation
from tests.factories import AlertFactory, DataProductFactory, DecisionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_database_refuses_a_second_unresolved_alert_of_one_kind():
    alert = AlertFactory(kind="retire", status=AlertStatus.ACKNOWLEDGED)
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertFactory(data_product=alert.data_product, kind="retire", status=AlertStatus.OPEN)


def test_resolved_alerts_of_one_kind_may_repeat():
    alert = AlertFactory(kind="retire", status=AlertStatus.RESOLVED)
    AlertFactory(data_product=alert.data_product, kind="retire", status=AlertStatus.RESOLVED)
    AlertFactory(data_product=alert.data_product, kind="retire", status=AlertStatus.OPEN)
    AlertFactory(data_product=alert.data_product, kind="invest", status=AlertStatus.OPEN)


def test_database_refuses_a_second_evaluation_for_one_product_and_date():
    product = DataProductFactory()
    figures = {
        "value": Decimal("1"),
        "cost": Decimal("1"),
        "net": Decimal("0"),
        "recent_value": Decimal("0"),
        "recent_cost": Decimal("0"),
        "recommendation": "hold",
        "window_days": 365,
        "recent_days": 90,
        "grace_days": 90,
        "retire_below": Decimal("1"),
        "invest_above": Decimal("3"),
        "stale_periods": 2,
    }
    Evaluation.objects.create(data_product=product, as_of=date(2026, 1, 1), **figures)
    with pytest.raises(IntegrityError), transaction.atomic():
        Evaluation.objects.create(data_product=product, as_of=date(2026, 1, 1), **figures)


@pytest.mark.parametrize(
    "fields",
    [
        {"rationale": ""},
        {"action": "retire", "sunset_on": None},
        {"action": "reassign_owner", "new_owner": None},
    ],
)
def test_database_refuses_incomplete_decisions(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        DecisionFactory(**fields)


def test_deciding_retire_deprecates_the_product_and_resolves_the_alert():
    lead = UserFactory()
    alert = AlertFactory(kind="retire")
    sunset = timezone.localdate() + timedelta(days=30)
    decision = alert_decide(
        alert=alert, user=lead, action="retire", rationale="Costs triple its value.", sunset_on=sunset
    )
    alert.refresh_from_db()
    alert.data_product.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED and "retire" in alert.resolution
    assert (alert.data_product.lifecycle, alert.data_product.sunset_on) == (Lifecycle.DEPRECATED, sunset)
    assert decision.alert == alert and decision.decided_by == lead


def test_deciding_reassign_hands_the_product_over(product_owner):
    alert = AlertFactory(kind="orphaned")
    previous_owner = alert.data_product.owner
    new_owner = product_owner
    decision = alert_decide(
        alert=alert, user=UserFactory(), action="reassign_owner", rationale="Finance uses it most.", new_owner=new_owner
    )
    alert.data_product.refresh_from_db()
    assert alert.data_product.owner == new_owner
    assert decision.previous_owner == previous_owner


@pytest.mark.parametrize("candidate", ["executive", "governance_lead", "no_role", "inactive_owner"])
def test_reassign_refuses_a_new_owner_who_may_not_own_products(request, candidate):
    if candidate == "no_role":
        new_owner = UserFactory(username="nobody")
    elif candidate == "inactive_owner":
        new_owner = request.getfixturevalue("product_owner")
        new_owner.is_active = False
        new_owner.save()
    else:
        new_owner = request.getfixturevalue(candidate)
    alert = AlertFactory(kind="orphaned")
    owner_before = alert.data_product.owner_id
    with pytest.raises(ValidationError) as raised:
        alert_decide(alert=alert, user=UserFactory(), action="reassign_owner", rationale="x", new_owner=new_owner)
    assert list(raised.value.message_dict) == ["new_owner"]
    alert.data_product.refresh_from_db()
    assert alert.data_product.owner_id == owner_before
    assert not Decision.objects.exists()


@pytest.mark.parametrize("staff_kind", [{"is_staff": True}, {"is_superuser": True}])
def test_reassign_to_staff_or_superuser_is_allowed(staff_kind):
    alert = AlertFactory(kind="orphaned")
    new_owner = UserFactory(username="staffer", **staff_kind)
    alert_decide(alert=alert, user=UserFactory(), action="reassign_owner", rationale="x", new_owner=new_owner)
    alert.data_product.refresh_from_db()
    assert alert.data_product.owner == new_owner


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"action": "keep", "rationale": "   "}, "rationale"),
        ({"action": "retire", "rationale": "x"}, "sunset_on"),
        ({"action": "retire", "rationale": "x", "sunset_on": date(2000, 1, 1)}, "sunset_on"),
        ({"action": "reassign_owner", "rationale": "x"}, "new_owner"),
        ({"action": "shrug", "rationale": "x"}, "action"),
    ],
)
def test_incomplete_decisions_are_refused_per_field_and_change_nothing(arguments, field):
    alert = AlertFactory()
    with pytest.raises(ValidationError) as raised:
        alert_decide(alert=alert, user=UserFactory(), **arguments)
    assert field in raised.value.message_dict
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    assert not Decision.objects.exists()


def test_acknowledge_and_snooze():
    lead = UserFactory()
    alert = alert_acknowledge(alert=AlertFactory(), user=lead)
    assert (alert.status, alert.acknowledged_by) == (AlertStatus.ACKNOWLEDGED, lead)
    until = timezone.localdate() + timedelta(days=7)
    alert = alert_snooze(alert=alert, user=lead, until=until)
    assert (alert.status, alert.snoozed_until) == (AlertStatus.SNOOZED, until)
    with pytest.raises(ValidationError):
        alert_snooze(alert=alert, user=lead, until=timezone.localdate())


def test_a_resolved_alert_cannot_be_decided_again():
    alert = AlertFactory()
    alert_decide(alert=alert, user=UserFactory(), action="keep", rationale="Fine for now.")
    with pytest.raises(ValidationError):
        alert_decide(alert=alert, user=UserFactory(), action="keep", rationale="Again.")
    assert Decision.objects.count() == 1


def test_deciding_a_bet_due_alert_confirms_the_measured_outcome():
    from apps.bets.models import BetStatus
    from tests.factories import ValueBetFactory

    today = timezone.localdate()
    bet = ValueBetFactory(
        opens_on=today - timedelta(days=200), review_on=today - timedelta(days=1), expected_value=Decimal("1000")
    )
    alert = AlertFactory(kind="bet_due", data_product=bet.data_product)
    alert_decide(alert=alert, user=UserFactory(), action="keep", rationale="The bet lost; the product stays.")
    bet.refresh_from_db()
    assert bet.status == BetStatus.LOST  # no measurements: realised value 0 is below the expected 1000
    assert bet.settled_on == today and bet.realised_value == Decimal("0")
