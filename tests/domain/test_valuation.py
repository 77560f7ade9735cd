"""The valuation rules of DESIGN.md, table by table, with no database."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from meshvalue.periods import Cadence
from meshvalue.valuation import (
    AttributionTerms,
    DecisionOnKind,
    Direction,
    DueBet,
    DueDebt,
    FailingSource,
    KpiFreshness,
    KpiTerms,
    Policy,
    ProductInput,
    Recommendation,
    SignalKind,
    UsageFacts,
    Window,
    attribution_value,
    credited_from,
    evaluate,
    improvement,
    ratio,
    resolution,
    revisit_date,
    settle_bet,
    summed_value,
)

D = Decimal
AS_OF = date(2026, 6, 30)
LAUNCHED = date(2024, 1, 1)
POLICY = Policy()

REVENUE = KpiTerms(1, "Revenue uplift", Direction.INCREASE, D("100"), D("10"), Cadence.MONTHLY)
CHURN = KpiTerms(2, "Churned customers", Direction.DECREASE, D("50"), D("20"), Cadence.WEEKLY)


def kpi_with(window_sum: str, window_count: int, recent_sum: str, recent_count: int, **kwargs) -> tuple:
    """One attributed KPI with its totals (count, sum) over the policy window and the recent window."""
    kpi = kwargs.get("kpi", REVENUE)
    weight = kwargs.get("weight", D("1"))
    latest = kwargs.get("latest_period_start", AS_OF - timedelta(days=10))
    return kpi, weight, (window_count, D(window_sum)), (recent_count, D(recent_sum)), latest


def facts(*, attributions: tuple = (), **kwargs) -> ProductInput:
    """The core's input for a product, summed from `kpi_with` attributions as the database would."""
    kwargs.setdefault("product_id", 7)
    kwargs.setdefault("launched_on", LAUNCHED)
    kwargs.setdefault("owner", "olivia")
    kwargs.setdefault("policy", POLICY)

    def value(kpi: KpiTerms, totals: tuple[int, Decimal]) -> Decimal:
        return summed_value(kpi.direction, kpi.baseline, kpi.value_per_unit, *totals)

    return ProductInput(
        kpi_count=len(attributions),
        value=sum((weight * value(kpi, window) for kpi, weight, window, _, _ in attributions), D(0)),
        recent_value=sum((weight * value(kpi, recent) for kpi, weight, _, recent, _ in attributions), D(0)),
        measured_kpis=sum(1 for _, _, window, _, _ in attributions if window[0]),
        kpi_names=tuple(kpi.name for kpi, *_ in attributions),
        freshness=tuple(KpiFreshness(kpi.kpi_id, kpi.name, kpi.cadence, latest) for kpi, *_, latest in attributions),
        **kwargs,
    )


def evaluate_product(product: ProductInput, policy: Policy, as_of: date):
    return evaluate(product._replace(policy=policy), as_of)


# --- improvement and value -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kpi", "value", "expected_improvement", "expected_value"),
    [
        (REVENUE, D("130"), D("30"), D("300")),
        (REVENUE, D("100"), D("0"), D("0")),
        (REVENUE, D("90"), D("-10"), D("-100")),  # worse than baseline: negative
        (CHURN, D("40"), D("10"), D("200")),  # decrease is better
        (CHURN, D("55.5"), D("-5.5"), D("-110.0")),
    ],
)
def test_improvement_and_measurement_value(kpi, value, expected_improvement, expected_value):
    assert improvement(kpi.direction, kpi.baseline, value) == expected_improvement
    assert summed_value(kpi.direction, kpi.baseline, kpi.value_per_unit, 1, value) == expected_value


@pytest.mark.parametrize("kpi", [REVENUE, CHURN])
def test_summed_value_equals_the_sum_of_measurement_values(kpi):
    values = [D("130"), D("42.5"), D("99.9999")]
    expected = sum((improvement(kpi.direction, kpi.baseline, v) * kpi.value_per_unit for v in values), D(0))
    assert summed_value(kpi.direction, kpi.baseline, kpi.value_per_unit, len(values), sum(values, D(0))) == expected


@pytest.mark.parametrize(
    ("period_start", "inside"),
    [
        (AS_OF - timedelta(days=365), True),  # the first day of the window counts
        (AS_OF - timedelta(days=366), False),
        (AS_OF - timedelta(days=1), True),
        (AS_OF, False),  # the evaluation date itself is outside (half-open)
    ],
)
def test_windows_are_half_open(period_start, inside):
    window = Window(AS_OF, 365)
    assert (period_start in window) is inside
    attribution = AttributionTerms(REVENUE, D("1"))
    assert attribution_value(attribution, [(period_start, D("105"))], window) == ((1, D("50")) if inside else (0, D(0)))


@pytest.mark.parametrize(
    ("value", "cost", "expected"),
    [
        (D("54"), D("100"), D("0.54")),
        (D("0"), D("10"), D("0")),
        (D("10"), D("0"), None),
        (D("10"), D("-3"), None),  # credits exceed charges: no ratio
        (D("-5"), D("10"), D("-0.5")),
    ],
)
def test_ratio_is_none_when_the_cost_is_not_positive(value, cost, expected):
    assert ratio(value, cost) == expected


# --- credited from, and the attribution's baseline (DESIGN.md v2) --------------------------------


@pytest.mark.parametrize(
    ("launched_on", "starts_on", "expected"),
    [
        (None, None, None),
        (date(2025, 1, 1), None, date(2025, 1, 1)),
        (None, date(2025, 3, 1), date(2025, 3, 1)),
        (date(2025, 1, 1), date(2025, 3, 1), date(2025, 3, 1)),  # linked after launch
        (date(2025, 5, 1), date(2025, 3, 1), date(2025, 5, 1)),  # linked before launch
    ],
)
def test_credited_from_is_the_later_of_launch_and_start(launched_on, starts_on, expected):
    assert credited_from(launched_on, starts_on) == expected


def test_a_late_attribution_counts_only_its_own_periods_above_its_own_baseline():
    # Monthly revenue over two years, 120 every month; the product starts serving it on 2026-03-01
    # when it stood at 115: credited 4 months (March to June) of 5 units * 10 = 200.
    history = [(date(year, month, 1), D("120")) for year in (2024, 2025, 2026) for month in range(1, 13)]
    late = AttributionTerms(REVENUE, D("1"), credited_from=date(2026, 3, 1), baseline=D("115"))
    assert attribution_value(late, history, Window(AS_OF, 365)) == (4, D("200"))
    # Its recent window (90 days: from 2026-04-01) is inside the credited span: 3 months.
    assert attribution_value(late, history, Window(AS_OF, 90)) == (3, D("150"))
    # Without a start or a baseline of its own: the whole window from the KPI's baseline 100.
    whole = AttributionTerms(REVENUE, D("1"))
    assert attribution_value(whole, history, Window(AS_OF, 365)) == (12, D("2400"))


def test_a_product_whose_credit_starts_after_the_window_has_no_evidence():
    late = AttributionTerms(REVENUE, D("1"), credited_from=AS_OF)
    assert attribution_value(late, [(date(2026, 6, 1), D("130"))], Window(AS_OF, 365)) == (0, D(0))


# --- the figures of a product --------------------------------------------------------------------


def test_figures_of_a_product_with_two_kpis_and_partial_weights():
    # Revenue: 3 measurements in the window summing 390 (improvement 90 -> 900), weight 0.5 -> 450;
    #          1 recent measurement 130 (improvement 30 -> 300), weight 0.5 -> 150.
    # Churn:   2 measurements summing 80 (baseline 50: improvement 20 -> 400), weight 0.25 -> 100;
    #          recent 1 measurement 45 (improvement 5 -> 100), weight 0.25 -> 25.
    product = facts(
        attributions=(
            kpi_with("390", 3, "130", 1, weight=D("0.5")),
            kpi_with("80", 2, "45", 1, kpi=CHURN, weight=D("0.25")),
        ),
        cost=D("1100"),
        recent_cost=D("250"),
    )
    valuation = evaluate_product(product, POLICY, AS_OF)
    assert valuation.value == D("550.00")
    assert valuation.cost == D("1100.00")
    assert valuation.ratio == D("0.5000")
    assert valuation.net == D("-550.00")
    assert valuation.recent_value == D("175.00")
    assert valuation.recent_cost == D("250.00")
    assert valuation.recent_ratio == D("0.7000")
    assert valuation.recommendation is Recommendation.RETIRE
    assert valuation.reasons == ("value/cost 0.50 below 1.00 over 365 days and 0.70 over the last 90 days",)


def test_figures_are_rounded_half_up_only_at_the_end():
    product = facts(attributions=(kpi_with("100.005", 1, "0", 0, weight=D("1")),), cost=D("3"), recent_cost=D("0"))
    valuation = evaluate_product(product, POLICY, AS_OF)
    # improvement 0.005 * 10 = 0.05; ratio 0.05 / 3 = 0.016666...
    assert valuation.value == D("0.05")
    assert valuation.ratio == D("0.0167")
    assert valuation.recent_ratio is None


# --- recommendation: first rule that matches -----------------------------------------------------

EVIDENCE = (kpi_with("700", 4, "120", 1),)  # value 3000 over 365 days, 200 over 90 days


@pytest.mark.parametrize(
    ("case", "product", "expected", "reason_fragment"),
    [
        ("no launch date", facts(launched_on=None, attributions=EVIDENCE, cost=D("1")), "incubating", "not launched"),
        (
            "launch date still ahead",
            facts(launched_on=AS_OF + timedelta(days=3), attributions=EVIDENCE, cost=D("1")),
            "incubating",
            "not launched yet: launches on 2026-07-03",
        ),
        (
            "one day inside the grace period",
            facts(launched_on=AS_OF - timedelta(days=89), attributions=EVIDENCE, cost=D("1")),
            "incubating",
            "89 days ago, within the 90-day grace period",
        ),
        (
            "exactly at the end of the grace period",
            facts(launched_on=AS_OF - timedelta(days=90), attributions=EVIDENCE, cost=D("1"), recent_cost=D("1")),
            "invest",
            "at or above 3.00",
        ),
        ("no attribution", facts(cost=D("100")), "review", "no KPI is attributed"),
        (
            "no KPI evidence in the window",
            facts(attributions=(kpi_with("0", 0, "0", 0),), cost=D("100")),
            "review",
            "no current measurement of its KPIs (Revenue uplift) in the last 365 days",
        ),
        ("no evidence wins over no cost", facts(attributions=(kpi_with("0", 0, "0", 0),)), "review", "no evidence"),
        ("cost 0", facts(attributions=EVIDENCE), "hold", "no cost recorded over 365 days"),
        (
            "credits exceed charges",
            facts(attributions=EVIDENCE, cost=D("-10"), recent_cost=D("5")),
            "hold",
            "credits exceed charges (-10.00) over 365 days: value/cost is undefined",
        ),
        (
            "retire on both windows",
            facts(attributions=EVIDENCE, cost=D("3001"), recent_cost=D("201")),
            "retire",
            "value/cost 1.00 below 1.00 over 365 days and 1.00 over the last 90 days",
        ),
        (
            "exactly at retire_below does not retire",
            facts(attributions=EVIDENCE, cost=D("3000"), recent_cost=D("100")),
            "hold",
            "value/cost 1.00 over 365 days and 2.00 over the last 90 days",
        ),
        (
            "retire needs the recent window too",
            facts(attributions=EVIDENCE, cost=D("6000"), recent_cost=D("100")),
            "hold",
            "0.50 over 365 days and 2.00 over the last 90 days",
        ),
        (
            "no recent cost never retires",
            facts(attributions=EVIDENCE, cost=D("6000"), recent_cost=D("0")),
            "hold",
            "no positive cost over the last 90 days",
        ),
        (
            "exactly at invest_above invests",
            facts(attributions=EVIDENCE, cost=D("1000"), recent_cost=D("66.666666666")),
            "invest",
            "value/cost 3.00 at or above 3.00 over 365 days and 3.00 over the last 90 days",
        ),
        (
            "just below invest_above on the recent window holds",
            facts(attributions=EVIDENCE, cost=D("1000"), recent_cost=D("66.67")),
            "hold",
            "3.00 over 365 days and 3.00 over the last 90 days",
        ),
        (
            "no recent cost never invests",
            facts(attributions=EVIDENCE, cost=D("100"), recent_cost=D("0")),
            "hold",
            "no positive cost over the last 90 days",
        ),
        (
            "negative improvement retires",
            facts(attributions=(kpi_with("360", 4, "80", 1),), cost=D("10"), recent_cost=D("10")),
            "retire",
            "value/cost -40.00 below 1.00 over 365 days and -20.00 over the last 90 days",
        ),
        (
            "decrease KPI that improved invests",
            facts(
                attributions=(kpi_with("40", 2, "10", 1, kpi=CHURN),),  # 2*50-40=60 -> 1200; 40 -> 800
                cost=D("100"),
                recent_cost=D("100"),
            ),
            "invest",
            "12.00 at or above 3.00 over 365 days and 8.00 over the last 90 days",
        ),
        (
            "weights summing below 1 credit only their share",
            facts(
                attributions=(kpi_with("700", 4, "120", 1, weight=D("0.3")),),  # 900 and 60
                cost=D("1000"),
                recent_cost=D("100"),
            ),
            "retire",
            "0.90 below 1.00 over 365 days and 0.60 over the last 90 days",
        ),
    ],
)
def test_recommendation_rules(case, product, expected, reason_fragment):
    valuation = evaluate_product(product, POLICY, AS_OF)
    assert valuation.recommendation == expected, case
    assert reason_fragment in " ".join(valuation.reasons), valuation.reasons


def test_policy_thresholds_come_from_the_policy():
    strict = Policy(window_days=180, recent_days=30, grace_days=10, retire_below=D("2.5"), invest_above=D("5"))
    product = facts(launched_on=AS_OF - timedelta(days=20), attributions=EVIDENCE, cost=D("1500"), recent_cost=D("100"))
    valuation = evaluate_product(product, strict, AS_OF)
    assert valuation.recommendation is Recommendation.RETIRE
    assert valuation.reasons == ("value/cost 2.00 below 2.50 over 180 days and 2.00 over the last 30 days",)


# --- signals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cadence", "days_since_latest", "stale"),
    [
        (Cadence.WEEKLY, 14, False),  # 2 weekly periods = 14 days: exactly at the horizon is fresh
        (Cadence.WEEKLY, 15, True),
        (Cadence.MONTHLY, 62, False),
        (Cadence.MONTHLY, 63, True),
        (Cadence.QUARTERLY, 184, False),
        (Cadence.QUARTERLY, 185, True),
        (Cadence.MONTHLY, None, True),  # never measured
    ],
)
def test_stale_kpi_signal(cadence, days_since_latest, stale):
    kpi = KpiTerms(3, "Orders", Direction.INCREASE, D("0"), D("1"), cadence)
    latest = None if days_since_latest is None else AS_OF - timedelta(days=days_since_latest)
    product = facts(attributions=(kpi_with("1", 1, "1", 1, kpi=kpi, latest_period_start=latest),))
    signals = evaluate_product(product, POLICY, AS_OF).signals
    assert (SignalKind.STALE_KPI in {s.kind for s in signals}) is stale


def test_stale_periods_come_from_the_policy():
    latest = AS_OF - timedelta(days=63)
    product = facts(attributions=(kpi_with("1", 1, "1", 1, latest_period_start=latest),))
    assert evaluate_product(product, Policy(stale_periods=3), AS_OF).signals == ()
    [signal] = evaluate_product(product, POLICY, AS_OF).signals
    assert signal.message == (
        "Stale KPI evidence: Revenue uplift (monthly): last measured for the period of 2026-04-28, "
        "none in the last 62 days."
    )


@pytest.mark.parametrize(
    ("usage", "orphaned"),
    [
        (UsageFacts(), False),  # nobody uses it: not orphaned (maybe worth retiring, but that is the ratio's job)
        (UsageFacts(total_uses=12, owner_uses=0, consumers=2), True),
        (UsageFacts(total_uses=12, owner_uses=1, consumers=3), False),
    ],
)
def test_orphaned_signal(usage, orphaned):
    signals = evaluate_product(facts(usage=usage), POLICY, AS_OF).signals
    assert (SignalKind.ORPHANED in {s.kind for s in signals}) is orphaned


def test_bet_due_signal_names_the_bets_and_the_proposed_outcome():
    bets = (
        DueBet(4, date(2026, 6, 1), D("1000"), realised_value=D("1200")),
        DueBet(3, date(2026, 5, 1), D("1000")),
    )
    [signal] = evaluate_product(facts(due_bets=bets), POLICY, AS_OF).signals
    assert signal.kind is SignalKind.BET_DUE
    assert signal.message == (
        "Open bet due: bet #3 was due for review on 2026-05-01; bet #4 was due for review on 2026-06-01 "
        "(realised value 1200.00 against 1000.00 expected: proposed outcome won). Deciding this alert confirms it."
    )


def test_alert_kinds_combine_recommendation_and_signals():
    product = facts(
        attributions=(kpi_with("0", 0, "0", 0, latest_period_start=None),),
        usage=UsageFacts(total_uses=1, owner_uses=0, consumers=1),
    )
    valuation = evaluate_product(product, POLICY, AS_OF)
    assert valuation.alert_kinds == {"review", "stale_kpi", "orphaned"}
    assert set(valuation.alerts) == {"review", "stale_kpi", "orphaned"}
    assert evaluate_product(facts(attributions=EVIDENCE), POLICY, AS_OF).alert_kinds == set()


@pytest.mark.parametrize(
    ("realised", "expected", "outcome"),
    [
        (D("100"), D("100"), "won"),
        (D("100.01"), D("100"), "won"),
        (D("99.99"), D("100"), "lost"),
        (D("-5"), D("0"), "lost"),
    ],
)
def test_settle_bet(realised, expected, outcome):
    assert settle_bet(realised_value=realised, expected_value=expected) == outcome


def test_hold_when_credits_exceed_charges_has_no_ratio():
    valuation = evaluate_product(facts(attributions=EVIDENCE, cost=D("-10"), recent_cost=D("-1")), POLICY, AS_OF)
    assert valuation.recommendation is Recommendation.HOLD
    assert (valuation.ratio, valuation.recent_ratio) == (None, None)
    assert valuation.net == D("3010.00")


# --- debt_due and source_failing (DESIGN.md v2) ----------------------------------------------------


def test_debt_due_signal_lists_the_debts_due():
    debts = (DueDebt(2, "Manual export to finance", date(2026, 6, 1)), DueDebt(1, "No lineage", date(2026, 5, 1)))
    [signal] = evaluate_product(facts(due_debts=debts), POLICY, AS_OF).signals
    assert signal.kind is SignalKind.DEBT_DUE
    assert signal.message == (
        "Conscious debt due for a revisit: No lineage (revisit on 2026-05-01); "
        "Manual export to finance (revisit on 2026-06-01)."
    )


def test_source_failing_signal_names_kpi_source_and_error():
    sources = (FailingSource("Revenue uplift", "warehouse", 'relation "sales" does not exist'),)
    valuation = evaluate_product(facts(failing_sources=sources), POLICY, AS_OF)
    assert valuation.alerts["source_failing"] == (
        "KPI source failing, outcomes are not being pulled: "
        'Revenue uplift from warehouse: relation "sales" does not exist.'
    )
    assert resolution("source_failing", evaluate_product(facts(), POLICY, AS_OF)).endswith(
        "the KPI sources pulled successfully again."
    )


# --- decisions hold their kind of alert until the revisit date (DESIGN.md v2) ----------------------

RETIRING = {"attributions": EVIDENCE, "cost": D("6001"), "recent_cost": D("401")}


def keep(revisit_on: date | None, kind: str = "retire") -> DecisionOnKind:
    return DecisionOnKind(kind, 42, "keep", date(2026, 3, 2), revisit_on, "Finance needs it until the audit.")


@pytest.mark.parametrize(
    ("decision", "held"),
    [
        (keep(date(2026, 7, 1)), True),  # revisit after the evaluation date: held
        (keep(AS_OF), False),  # the revisit date has come: asked again
        (keep(None), False),  # default: 2026-03-02 + 90 days = 2026-05-31, passed
        (keep(date(2026, 7, 1), kind="invest"), False),  # a decision on another kind
    ],
)
def test_a_decision_holds_its_kind_until_the_revisit_date(decision, held):
    valuation = evaluate_product(facts(decisions=(decision,), **RETIRING), POLICY, AS_OF)
    assert valuation.recommendation is Recommendation.RETIRE
    assert ("retire" not in valuation.alerts) is held
    assert "retire" in valuation.alert_kinds  # the condition holds either way
    if held:
        assert valuation.held[0].decision_id == 42
        assert "retire held by decision 42 until 2026-07-01" in valuation.reasons


def test_after_the_revisit_date_the_new_alert_quotes_the_decision():
    valuation = evaluate_product(facts(decisions=(keep(date(2026, 6, 1)),), **RETIRING), POLICY, AS_OF)
    assert valuation.alerts["retire"].endswith(
        "Earlier decision #42 (keep, 2026-03-02) held this until 2026-06-01: Finance needs it until the audit."
    )


@pytest.mark.parametrize(
    ("kind", "revisit_on", "quiet_days", "expected"),
    [
        ("retire", None, 90, date(2026, 5, 31)),
        ("retire", None, 10, date(2026, 3, 12)),
        ("retire", date(2026, 9, 1), 90, date(2026, 9, 1)),
        ("bet_due", None, 90, date(2026, 3, 2)),  # a later bet is a new question
    ],
)
def test_revisit_date_defaults_to_the_policy_quiet_days(kind, revisit_on, quiet_days, expected):
    policy = Policy(decision_quiet_days=quiet_days)
    assert revisit_date(kind=kind, decided_on=date(2026, 3, 2), revisit_on=revisit_on, policy=policy) == expected
