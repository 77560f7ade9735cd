"""Settling value bets: measured over the bet's span, confirmed by a governance lead."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.bets.models import BetStatus
from apps.bets.services import bet_settle_confirm, bets_confirm_for_alert, bets_measure_due
from apps.governance.models import Alert, AlertKind, AlertStatus
from apps.governance.services import alert_decide
from apps.valuation.services import portfolio_evaluate
from meshvalue.valuation import settle_bet
from tests import factories

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def bet():
    """A bet on `product` from 2025-01-01 to 2025-07-01 (half-open: periods 2025-01 .. 2025-06 count)."""
    product = factories.DataProductFactory(launched_on=date(2024, 1, 1))
    kpi = factories.KPIFactory(baseline=D("100"), value_per_unit=D("10"))
    factories.AttributionFactory(kpi=kpi, data_product=product, weight=D("0.5"))
    for period_start, value in [
        (date(2024, 12, 1), "900"),  # before the span
        (date(2025, 1, 1), "150"),
        (date(2025, 6, 1), "130"),
        (date(2025, 7, 1), "900"),  # the review date itself is outside
    ]:
        factories.MeasurementFactory(kpi=kpi, period_start=period_start, value=D(value))
    for period_start, amount in [(date(2024, 12, 1), "5000"), (date(2025, 3, 1), "300"), (date(2025, 7, 1), "5000")]:
        factories.CostEntryFactory(data_product=product, period_start=period_start, amount=D(amount))
    # realised value: (50 + 30) * 10 * 0.5 = 400; realised cost 300.
    return factories.ValueBetFactory(
        data_product=product,
        goal=kpi.goal,
        expected_value=D("400"),
        expected_cost=D("250"),
        opens_on=date(2025, 1, 1),
        review_on=date(2025, 7, 1),
    )


def test_settlement_measures_due_bets_and_leaves_them_open_for_confirmation(bet):
    assert bets_measure_due(as_of=date(2025, 6, 30)) == []  # not due yet
    assert bets_measure_due(as_of=date(2025, 7, 1)) == [bet.pk]
    bet.refresh_from_db()
    assert (bet.realised_value, bet.realised_cost, bet.status) == (D("400"), D("300"), BetStatus.OPEN)
    # The realised value reaches the expected value exactly: the proposed outcome is won.
    assert settle_bet(realised_value=bet.realised_value, expected_value=bet.expected_value) == "won"
    assert bets_measure_due(as_of=date(2025, 7, 1)) == [bet.pk]  # idempotent
    assert bets_measure_due(as_of=date(2025, 7, 1), product_range=(bet.data_product_id + 1, 2**62)) == []


def test_the_bet_due_alert_shows_the_proposed_outcome_and_deciding_it_confirms(bet, governance_lead):
    portfolio_evaluate(as_of=date(2025, 7, 2))  # measures the due bet first
    alert = Alert.objects.get(data_product=bet.data_product, kind=AlertKind.BET_DUE)
    assert alert.message == (
        f"Open bet due: bet #{bet.pk} was due for review on 2025-07-01 (realised value 400.00 against 400.00 "
        "expected: proposed outcome won). Deciding this alert confirms it."
    )
    # Deciding the alert (governance's alert_decide calls bets_confirm_for_alert) settles the bet.
    alert_decide(alert=alert, user=governance_lead, action="keep", rationale="The bet paid off as expected.")
    bet.refresh_from_db()
    assert (bet.status, bet.realised_value, bet.realised_cost) == (BetStatus.WON, D("400"), D("300"))
    assert bet.settled_on is not None
    assert bets_confirm_for_alert(alert=alert, user=governance_lead) == []  # nothing left to confirm
    portfolio_evaluate(as_of=date(2025, 7, 3))
    assert (
        not Alert.objects.filter(data_product=bet.data_product, kind=AlertKind.BET_DUE)
        .exclude(status=AlertStatus.RESOLVED)
        .exists()
    )


def test_a_bet_below_its_expected_value_is_lost(bet, governance_lead):
    bet.expected_value = D("400.01")
    bet.save()
    assert bet_settle_confirm(bet=bet, user=governance_lead).status == BetStatus.LOST


def test_confirmation_cannot_contradict_the_figures_but_may_void(bet, governance_lead):
    with pytest.raises(ValidationError, match="The measured outcome is won"):
        bet_settle_confirm(bet=bet, user=governance_lead, outcome="lost")
    assert bet_settle_confirm(bet=bet, user=governance_lead, outcome="void").status == BetStatus.VOID
    with pytest.raises(ValidationError, match="already settled"):
        bet_settle_confirm(bet=bet, user=governance_lead)


def test_a_bet_not_yet_due_cannot_be_confirmed(bet, governance_lead):
    bet.review_on = date(2099, 1, 1)
    bet.save()
    with pytest.raises(ValidationError, match="not due for review"):
        bet_settle_confirm(bet=bet, user=governance_lead)


def test_other_alert_kinds_confirm_nothing(bet, governance_lead):
    alert = factories.AlertFactory(data_product=bet.data_product, kind=AlertKind.RETIRE)
    assert bets_confirm_for_alert(alert=alert, user=governance_lead) == []
