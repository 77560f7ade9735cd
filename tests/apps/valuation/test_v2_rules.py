"""DESIGN.md v2 on the real database, with figures computed by hand.

- A product launched mid-window on a KPI with two years of history is credited only with its own
  periods, above its attribution's baseline.
- A `keep` decision holds the retire alert across daily evaluations until its revisit date; then
  the alert opens again quoting the decision; re-running a date changes nothing.
- A credit brings the window cost to <= 0: `hold`, ratio none.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from apps.governance.models import Alert, AlertKind, AlertStatus, Decision
from apps.governance.services import alert_decide
from apps.kpis.models import Attribution
from apps.valuation.models import Evaluation
from apps.valuation.services import portfolio_evaluate, valuations_preview
from meshvalue.valuation import Policy
from tests import factories

pytestmark = pytest.mark.django_db
D = Decimal
AS_OF = date(2026, 7, 1)


def monthly(year: int, month: int, count: int) -> list[date]:
    index = year * 12 + month - 1
    return [date((index + n) // 12, (index + n) % 12 + 1, 1) for n in range(count)]


@pytest.fixture
def orders_kpi():
    """Monthly orders, increase is better, baseline 100, 10 per unit: 24 months of history, 100 + n."""
    kpi = factories.KPIFactory(name="Orders", cadence="monthly", baseline=D("100"), value_per_unit=D("10"))
    for n, period_start in enumerate(monthly(2024, 7, 24)):  # 2024-07 .. 2026-06
        factories.MeasurementFactory(kpi=kpi, period_start=period_start, value=D(100 + n))
    return kpi


def test_a_product_launched_mid_window_gets_only_its_own_periods_above_its_baseline(orders_kpi):
    veteran = factories.DataProductFactory(slug="veteran", launched_on=date(2024, 1, 1))
    newcomer = factories.DataProductFactory(slug="newcomer", launched_on=date(2026, 1, 15))
    factories.AttributionFactory(kpi=orders_kpi, data_product=veteran, weight=D("0.7"))
    # Linked late (from 2026-03-01), when orders stood at 118 (the outcome of 2026-02).
    factories.AttributionFactory(
        kpi=orders_kpi, data_product=newcomer, weight=D("0.3"), starts_on=date(2026, 3, 1), baseline=D("118")
    )
    for product in (veteran, newcomer):
        factories.CostEntryFactory(data_product=product, period_start=date(2026, 6, 1), amount=D("100"))

    portfolio_evaluate(as_of=AS_OF)
    by_slug = {e.data_product.slug: e for e in Evaluation.objects.filter(as_of=AS_OF).select_related("data_product")}
    # Window 2025-07-01 .. 2026-06-30: months n = 12..23, values 112..123, improvement over 100:
    # 12+13+...+23 = 210 units -> 2100, weight 0.7 -> 1470. Recent (from 2026-04-02): May, June
    # (n = 22, 23): 45 units -> 450 * 0.7 = 315.
    assert (by_slug["veteran"].value, by_slug["veteran"].recent_value) == (D("1470.00"), D("315.00"))
    # The newcomer: only 2026-03 .. 2026-06 (values 120..123) above 118: 2+3+4+5 = 14 units -> 140,
    # weight 0.3 -> 42. Recent: May and June, 4 + 5 = 9 units -> 90 * 0.3 = 27.
    assert (by_slug["newcomer"].value, by_slug["newcomer"].recent_value) == (D("42.00"), D("27.00"))
    assert (by_slug["newcomer"].ratio, by_slug["newcomer"].recommendation) == (D("0.4200"), "retire")
    assert (by_slug["veteran"].ratio, by_slug["veteran"].recommendation) == (D("14.7000"), "invest")


def test_the_value_chart_starts_at_credited_from(orders_kpi):
    from apps.catalog.models import DataProduct
    from apps.web.selectors.common import monthly_value_cost

    newcomer = factories.DataProductFactory(slug="newcomer", launched_on=date(2026, 1, 15))
    factories.AttributionFactory(
        kpi=orders_kpi, data_product=newcomer, weight=D("0.3"), starts_on=date(2026, 3, 1), baseline=D("118")
    )
    series = monthly_value_cost(as_of=AS_OF, months=24, products=DataProduct.objects.filter(pk=newcomer.pk))
    values = dict(zip(series.months, series.value_series(newcomer.pk), strict=True))
    assert all(value == 0 for month, value in values.items() if month < date(2026, 3, 1))
    # 2026-03: (120 - 118) * 10 * 0.3 = 6; then 9, 12, 15.
    assert [values[month] for month in monthly(2026, 3, 4)] == [D("6.00"), D("9.00"), D("12.00"), D("15.00")]


@pytest.fixture
def retiring_product(orders_kpi):
    """Launched long ago, worth 1470 over the window for 120,000 of cost (10,000 a month for two years): retire."""
    product = factories.DataProductFactory(slug="costly", launched_on=date(2024, 1, 1))
    factories.AttributionFactory(kpi=orders_kpi, data_product=product, weight=D("0.7"))
    for period_start in monthly(2025, 7, 24):
        factories.CostEntryFactory(data_product=product, period_start=period_start, amount=D("10000"))
    return product


def test_a_keep_decision_holds_the_alert_until_its_revisit_date_then_it_reopens_quoting_it(
    retiring_product, governance_lead, time_machine
):
    time_machine.move_to(AS_OF)
    portfolio_evaluate(as_of=AS_OF)
    alert = Alert.objects.get(data_product=retiring_product, kind=AlertKind.RETIRE)
    decision = alert_decide(
        alert=alert,
        user=governance_lead,
        action="keep",
        rationale="Finance needs it until the audit.",
        revisit_on=date(2026, 7, 10),
    )
    # Daily evaluations until the revisit date: no retire alert, each evaluation says why.
    for day in range(2, 10):
        as_of = date(2026, 7, day)
        portfolio_evaluate(as_of=as_of)
        evaluation = Evaluation.objects.get(data_product=retiring_product, as_of=as_of)
        assert evaluation.recommendation == "retire"
        assert f"retire held by decision {decision.pk} until 2026-07-10" in evaluation.reasons
    assert not Alert.objects.filter(data_product=retiring_product, kind=AlertKind.RETIRE).exclude(
        status=AlertStatus.RESOLVED
    )
    # On the revisit date the condition still holds: the new alert names the earlier decision.
    portfolio_evaluate(as_of=date(2026, 7, 10))
    reopened = Alert.objects.get(data_product=retiring_product, kind=AlertKind.RETIRE, status=AlertStatus.OPEN)
    assert reopened.message.endswith(
        f"Earlier decision #{decision.pk} (keep, 2026-07-01) held this until 2026-07-10: "
        "Finance needs it until the audit."
    )
    # A re-run of the same date changes nothing: the same evaluations, no new alert.
    before = (list(Evaluation.objects.order_by("id").values_list("id", "reasons")), Alert.objects.count())
    portfolio_evaluate(as_of=date(2026, 7, 10))
    assert (list(Evaluation.objects.order_by("id").values_list("id", "reasons")), Alert.objects.count()) == before


def test_a_decision_without_revisit_date_holds_for_the_policy_quiet_days(
    retiring_product, governance_lead, time_machine
):
    time_machine.move_to(AS_OF)
    portfolio_evaluate(as_of=AS_OF)
    alert = Alert.objects.get(data_product=retiring_product, kind=AlertKind.RETIRE)
    alert_decide(alert=alert, user=governance_lead, action="keep", rationale="Not now.")
    decided_on = Decision.objects.get().decided_at.date()
    portfolio_evaluate(as_of=decided_on + timedelta(days=89))
    assert not Alert.objects.filter(kind=AlertKind.RETIRE, status=AlertStatus.OPEN)
    portfolio_evaluate(as_of=decided_on + timedelta(days=90))
    assert Alert.objects.filter(kind=AlertKind.RETIRE, status=AlertStatus.OPEN).count() == 1


def test_credits_that_exceed_charges_hold_with_no_ratio(orders_kpi):
    product = factories.DataProductFactory(slug="refunded", launched_on=date(2024, 1, 1))
    factories.AttributionFactory(kpi=orders_kpi, data_product=product)
    factories.CostEntryFactory(data_product=product, period_start=date(2026, 5, 1), amount=D("100"))
    factories.CostEntryFactory(data_product=product, period_start=date(2026, 6, 1), amount=D("-150"), category="credit")
    portfolio_evaluate(as_of=AS_OF)
    evaluation = Evaluation.objects.get(data_product=product)
    assert (evaluation.cost, evaluation.ratio, evaluation.recommendation) == (D("-50.00"), None, "hold")
    assert evaluation.reasons == ["credits exceed charges (-50.00) over 365 days: value/cost is undefined"]


def test_a_due_debt_opens_debt_due_and_resolving_it_resolves_the_alert(orders_kpi):
    product = factories.DataProductFactory(slug="shortcut", launched_on=date(2024, 1, 1))
    factories.AttributionFactory(kpi=orders_kpi, data_product=product)
    debt = factories.ConsciousDebtFactory(data_product=product, title="Typed by hand", revisit_on=AS_OF)
    portfolio_evaluate(as_of=AS_OF - timedelta(days=1))
    assert not Alert.objects.filter(kind=AlertKind.DEBT_DUE)
    portfolio_evaluate(as_of=AS_OF)
    alert = Alert.objects.get(kind=AlertKind.DEBT_DUE)
    assert alert.message == "Conscious debt due for a revisit: Typed by hand (revisit on 2026-07-01)."
    from apps.catalog.services import debt_resolve

    debt_resolve(debt=debt, resolution="Automated with a scheduled query.", user=None)
    portfolio_evaluate(as_of=AS_OF + timedelta(days=1))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    assert "no unresolved conscious debt is due" in alert.resolution


def test_the_policy_preview_stores_nothing(retiring_product, django_assert_max_num_queries):
    portfolio_evaluate(as_of=AS_OF)
    before = (Evaluation.objects.count(), Alert.objects.count())
    with django_assert_max_num_queries(12):
        [valuation] = valuations_preview(as_of=AS_OF, policy_overrides={None: Policy(retire_below=D("0.01"))})
    assert valuation.recommendation == "hold"
    assert (Evaluation.objects.count(), Alert.objects.count()) == before
    assert Attribution.objects.count() == 1
