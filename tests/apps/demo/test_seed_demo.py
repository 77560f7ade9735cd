from datetime import date

import pytest
from django.core.management import call_command

from apps.bets.models import ValueBet
from apps.catalog.models import BusinessGoal, DataProduct, Domain, Lifecycle
from apps.costs.models import CostEntry
from apps.kpis.models import KPI, Attribution, Measurement
from apps.usage.models import UsageRecord

MODELS = [Domain, BusinessGoal, DataProduct, KPI, Attribution, Measurement, CostEntry, ValueBet, UsageRecord]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.mark.django_db
def test_seed_demo_twice_gives_the_same_row_counts(postgres):
    call_command("seed_demo", today="2026-11-21")
    first = _counts()
    call_command("seed_demo", today="2026-11-21")
    assert _counts() == first


@pytest.mark.django_db
def test_demo_portfolio_reads_like_a_real_company():
    call_command("seed_demo", today="2026-11-21")
    assert Domain.objects.count() >= 4
    assert BusinessGoal.objects.count() >= 8
    assert DataProduct.objects.count() >= 30
    assert set(DataProduct.objects.values_list("lifecycle", flat=True)) == set(Lifecycle.values)
    assert set(KPI.objects.values_list("cadence", flat=True)) >= {"weekly", "monthly"}
    history = Measurement.objects.filter(kpi__cadence="weekly").dates("period_start", "day")
    assert (history.last() - history.first()).days >= 700
    assert Measurement.objects.filter(revision=2).exists(), "some outcomes were corrected"
    assert set(CostEntry.objects.values_list("category", flat=True)) >= {"infrastructure", "people", "licenses"}
    assert set(ValueBet.objects.values_list("status", flat=True)) == {"open", "won", "lost"}
    orphaned = DataProduct.objects.get(slug="shipment-tracking")
    recent = UsageRecord.objects.filter(data_product=orphaned, day__gte=date(2026, 8, 23))
    assert recent.exists() and not recent.filter(consumer=orphaned.owner.username).exists()


def test_seed_demo_refuses_a_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--today must be a date"):
        call_command("seed_demo", today="21/11/2026")


@pytest.mark.django_db
def test_demo_history_evaluates_a_year_of_months_and_records_decisions_once():
    from apps.governance.models import Decision
    from apps.valuation.models import Evaluation

    call_command("seed_demo", today="2026-11-21")
    call_command("demo_history", today="2026-11-21", months=3)
    dates = sorted(set(Evaluation.objects.values_list("as_of", flat=True)))
    assert dates == [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 21)]
    recommendations = set(Evaluation.objects.filter(as_of=date(2026, 11, 21)).values_list("recommendation", flat=True))
    assert recommendations == {"invest", "hold", "retire", "review", "incubating"}
    decisions = Decision.objects.count()
    assert decisions >= 3
    assert all(d.decided_at.date() <= date(2026, 11, 21) for d in Decision.objects.all())
    call_command("demo_history", today="2026-11-21", months=3)
    assert Decision.objects.count() == decisions


@pytest.mark.django_db
def test_demo_gives_every_decision_loop_figure_something_to_show():
    from apps.governance.models import Alert, Decision
    from apps.valuation.decision_loop import decision_loop

    call_command("seed_demo", today="2026-11-21")
    loop = decision_loop(date_from=date(2025, 11, 22), date_to=date(2026, 11, 21))
    total = loop.total
    assert total.bets.won >= 3 and total.bets.lost >= 3
    settled_domains = [domain.name for domain in loop.domains if domain.bets.settled]
    assert len(settled_domains) >= 4
    assert total.calibration is not None and total.cost_accuracy is not None
    assert total.retirements >= 2 and total.avoided_cost > 0
    assert 0 < total.decided_within_sla < 1, "decisions inside and outside the SLA"
    assert total.median_time_to_decision is not None
    assert total.alerts_past_sla >= 2
    # The dashboard's counts-only form gives the same figures, per domain too, without the rows.
    counted = decision_loop(date_from=date(2025, 11, 22), date_to=date(2026, 11, 21), overdue_limit=0)
    assert counted.total == total
    assert [(d.domain_id, d.past_sla, d.figures) for d in counted.domains] == [
        (d.domain_id, d.past_sla, d.figures) for d in loop.domains
    ]
    assert counted.alerts_past_sla == [] and len(loop.alerts_past_sla) == total.alerts_past_sla
    decisions, alerts = Decision.objects.count(), Alert.objects.count()
    call_command("seed_demo", today="2026-11-21")
    assert (Decision.objects.count(), Alert.objects.count()) == (decisions, alerts)
