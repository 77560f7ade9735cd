"""The evaluation of a hand-computed portfolio on the real database: figures, recommendations, alerts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from apps.catalog.models import DataProduct
from apps.governance.models import Alert, AlertStatus
from apps.valuation.models import Evaluation, EvaluationPolicy, EvaluationRun, RunStatus
from apps.valuation.services import READINESS_PART, portfolio_evaluate
from apps.valuation.services.gather import kpi_figures_share
from tests import factories

from .scenario import AS_OF, build_scenario

pytestmark = pytest.mark.django_db
D = Decimal


def figures(evaluation: Evaluation) -> tuple:
    return (
        evaluation.value,
        evaluation.cost,
        evaluation.ratio,
        evaluation.net,
        evaluation.recent_value,
        evaluation.recent_cost,
        evaluation.recent_ratio,
        evaluation.recommendation,
    )


EXPECTED = {
    "alpha": (D("480"), D("1800"), D("0.2667"), D("-1320"), D("300"), D("800"), D("0.375"), "retire"),
    "beta": (D("620"), D("100"), D("6.2"), D("520"), D("500"), D("100"), D("5"), "invest"),
    "gamma": (D("0"), D("0"), None, D("0"), D("0"), D("0"), None, "incubating"),
    "delta": (D("0"), D("50"), D("0"), D("-50"), D("0"), D("0"), None, "review"),
    "epsilon": (D("1000"), D("100"), D("10"), D("900"), D("0"), D("0"), None, "hold"),
    "zeta": (D("0"), D("0"), None, D("0"), D("0"), D("0"), None, "review"),
}


def test_scenario_figures_and_recommendations():
    build_scenario()
    summary = portfolio_evaluate(as_of=AS_OF)
    assert summary.products_evaluated == 6
    rows = Evaluation.objects.filter(as_of=AS_OF).select_related("data_product")
    evaluations = {e.data_product.slug: e for e in rows}
    assert {slug: figures(e) for slug, e in evaluations.items()} == EXPECTED
    assert evaluations["alpha"].reasons == ["value/cost 0.27 below 1.00 over 365 days and 0.38 over the last 90 days"]
    assert evaluations["beta"].reasons == [
        "value/cost 6.20 at or above 3.00 over 365 days and 5.00 over the last 90 days"
    ]
    assert [s["kind"] for s in evaluations["beta"].signals] == ["orphaned"]
    assert [s["kind"] for s in evaluations["delta"].signals] == ["bet_due"]
    assert [s["kind"] for s in evaluations["epsilon"].signals] == ["stale_kpi"]
    assert [s["kind"] for s in evaluations["zeta"].signals] == ["stale_kpi"]
    # The policy values used are recorded with each evaluation.
    assert {(e.window_days, e.recent_days, e.grace_days, e.stale_periods) for e in evaluations.values()} == {
        (365, 90, 90, 2)
    }


def test_scenario_alerts_open_once_and_eta_resolves():
    scenario = build_scenario()
    portfolio_evaluate(as_of=AS_OF)
    unresolved = {
        (a.data_product.slug, a.kind)
        for a in Alert.objects.exclude(status=AlertStatus.RESOLVED).select_related("data_product")
    }
    assert unresolved == {
        ("alpha", "retire"),
        ("beta", "invest"),
        ("beta", "orphaned"),
        ("delta", "review"),
        ("delta", "bet_due"),
        ("epsilon", "stale_kpi"),
        ("zeta", "review"),
        ("zeta", "stale_kpi"),
    }
    eta_alert = Alert.objects.get(data_product=scenario.eta)
    assert eta_alert.status == AlertStatus.RESOLVED
    assert eta_alert.resolution == "Resolved automatically on 2026-07-01: the product is deprecated."
    alpha_alert = Alert.objects.get(data_product=scenario.alpha)
    assert alpha_alert.message == "Retire: value/cost 0.27 below 1.00 over 365 days and 0.38 over the last 90 days."
    assert alpha_alert.opened_on == AS_OF
    assert alpha_alert.evaluation == Evaluation.objects.get(data_product=scenario.alpha, as_of=AS_OF)


def test_re_running_the_same_date_changes_nothing(monkeypatch):
    build_scenario()
    notified: list[list[int]] = []
    monkeypatch.setattr(
        "apps.governance.services.alerts_opened_notify",
        lambda *, alert_ids, batch_key: notified.append(list(alert_ids)),
    )
    first = portfolio_evaluate(as_of=AS_OF)
    evaluations = list(Evaluation.objects.order_by("id").values())
    alerts = list(Alert.objects.order_by("id").values())
    assert first.alerts_opened == 8 and len(notified) == 1 and len(notified[0]) == 8

    second = portfolio_evaluate(as_of=AS_OF)
    assert (second.alerts_opened, second.alerts_resolved) == (0, 0)
    assert list(Evaluation.objects.order_by("id").values()) == evaluations
    assert list(Alert.objects.order_by("id").values()) == alerts
    assert len(notified) == 1


def test_a_decided_alert_is_not_reopened_by_re_running_its_date(governance_lead):
    from apps.governance.services import alert_decide

    scenario = build_scenario()
    portfolio_evaluate(as_of=AS_OF)
    alert = Alert.objects.get(data_product=scenario.alpha, kind="retire")
    alert_decide(alert=alert, user=governance_lead, action="keep", rationale="Finance still needs it this quarter.")
    portfolio_evaluate(as_of=AS_OF)
    assert Alert.objects.filter(data_product=scenario.alpha, kind="retire").count() == 1


def test_alerts_resolve_when_their_condition_no_longer_holds():
    scenario = build_scenario()
    portfolio_evaluate(as_of=AS_OF)
    next_day = date(2026, 7, 2)
    # bob uses beta again; alpha's recent costs are corrected down (and 2026-07's revenue of 500 enters the
    # window): it now earns 2880 for 930 (3.10) and 2700 for 30 over 90 days; delta's bet is voided.
    factories.UsageRecordFactory(data_product=scenario.beta, consumer="bob", day=date(2026, 7, 1), count=1)
    from apps.costs.models import CostEntry

    CostEntry.objects.filter(data_product=scenario.alpha, period_start__gte=date(2026, 5, 1)).update(amount=D("10"))
    scenario.delta.bets.update(status="void", realised_value=D("0"))
    summary = portfolio_evaluate(as_of=next_day)
    resolutions = {
        (a.data_product.slug, a.kind): a.resolution
        for a in Alert.objects.filter(status=AlertStatus.RESOLVED, resolved_at__isnull=False)
        .exclude(data_product=scenario.eta)
        .select_related("data_product")
    }
    assert resolutions == {
        ("alpha", "retire"): (
            "Resolved automatically by the evaluation of 2026-07-02: the recommendation is now invest "
            "(value/cost 3.10 at or above 3.00 over 365 days and 90.00 over the last 90 days)."
        ),
        ("beta", "orphaned"): (
            "Resolved automatically by the evaluation of 2026-07-02: no longer used only by others in the last "
            "90 days (its owner uses it, or nobody does)."
        ),
        ("delta", "bet_due"): (
            "Resolved automatically by the evaluation of 2026-07-02: no open bet is due for review any more."
        ),
    }
    assert summary.alerts_resolved == 3
    # alpha now asks for investment, and its own bet is due on 2026-07-02.
    opened = set(Alert.objects.filter(opened_on=next_day).values_list("data_product__slug", "kind", "status"))
    assert opened == {("alpha", "invest", "open"), ("alpha", "bet_due", "open")}
    assert summary.alerts_opened == 2


def test_a_snoozed_alert_comes_back_when_its_snooze_has_passed(monkeypatch):
    scenario = build_scenario()
    portfolio_evaluate(as_of=AS_OF)
    alert = Alert.objects.get(data_product=scenario.zeta, kind="review")
    Alert.objects.filter(pk=alert.pk).update(status=AlertStatus.SNOOZED, snoozed_until=date(2026, 7, 3))
    notified: list[list[int]] = []
    monkeypatch.setattr(
        "apps.governance.services.alerts_opened_notify",
        lambda *, alert_ids, batch_key: notified.append(list(alert_ids)),
    )
    portfolio_evaluate(as_of=date(2026, 7, 3))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.SNOOZED  # the snooze runs through its last day
    portfolio_evaluate(as_of=date(2026, 7, 4))
    alert.refresh_from_db()
    assert (alert.status, alert.snoozed_until) == (AlertStatus.OPEN, None)
    assert notified[-1] == [alert.pk]
    assert Alert.objects.filter(data_product=scenario.zeta, kind="review").count() == 1


def test_an_older_date_does_not_touch_the_alerts_of_a_later_evaluation():
    scenario = build_scenario()
    portfolio_evaluate(as_of=AS_OF)
    before = list(Alert.objects.order_by("id").values_list("id", "status"))
    portfolio_evaluate(as_of=date(2024, 1, 1))  # every product was incubating then
    assert list(Alert.objects.order_by("id").values_list("id", "status")) == before
    assert Evaluation.objects.get(data_product=scenario.alpha, as_of=date(2024, 1, 1)).recommendation == "incubating"


def test_domain_policy_overrides_the_default_and_is_recorded():
    scenario = build_scenario()
    EvaluationPolicy.objects.create(
        domain=scenario.alpha.domain,
        window_days=180,
        recent_days=30,
        grace_days=30,
        retire_below=D("0.1"),
        invest_above=D("8"),
        stale_periods=3,
    )
    portfolio_evaluate(as_of=AS_OF)
    alpha = Evaluation.objects.get(data_product=scenario.alpha)
    # 180 days from 2026-01-02: revenue 110 + 140 (2026-01-01 is out) -> 50 * 10 * 0.6 = 300; cost 2026-02..06 = 1100.
    assert (alpha.value, alpha.cost, alpha.ratio) == (D("300"), D("1100"), D("0.2727"))
    # 30 days from 2026-06-01: 140 -> 40 * 10 * 0.6 = 240; cost 400.
    assert (alpha.recent_value, alpha.recent_cost, alpha.recommendation) == (D("240"), D("400"), "hold")
    assert (alpha.window_days, alpha.recent_days, alpha.retire_below, alpha.invest_above, alpha.stale_periods) == (
        180,
        30,
        D("0.1"),
        D("8"),
        3,
    )


def test_evaluate_command_prints_a_summary_and_records_a_run(capsys):
    build_scenario()
    call_command("evaluate", "--as-of", "2026-07-01")
    out = capsys.readouterr().out
    assert "Evaluated 6 active product(s) as of 2026-07-01" in out
    assert "incubating 1, invest 1, retire 1, review 2" in out
    assert "8 alert(s) opened, 1 resolved" in out
    run = EvaluationRun.objects.get()
    assert (run.status, run.trigger, run.products_evaluated, run.alerts_opened) == (
        RunStatus.SUCCEEDED,
        "command",
        6,
        8,
    )


def test_evaluate_command_rejects_a_bad_date():
    with pytest.raises(CommandError, match="--as-of must be a date as YYYY-MM-DD, not '2026-02-30'"):
        call_command("evaluate", "--as-of", "2026-02-30")


def test_chunks_give_the_same_result_as_one_pass():
    build_scenario()
    portfolio_evaluate(as_of=AS_OF, chunk_size=2)
    chunked = {e.data_product_id: figures(e) for e in Evaluation.objects.all()}
    alerts = set(Alert.objects.values_list("data_product_id", "kind", "status"))
    Alert.objects.filter(opened_on=AS_OF).delete()
    Evaluation.objects.all().delete()
    Alert.objects.update(status="open", resolved_at=None, resolution="")
    portfolio_evaluate(as_of=AS_OF, chunk_size=10_000)
    assert {e.data_product_id: figures(e) for e in Evaluation.objects.all()} == chunked
    assert set(Alert.objects.values_list("data_product_id", "kind", "status")) == alerts


def test_a_run_in_chunks_shares_its_kpi_figures_and_matches_one_pass(postgres):
    from django.db import connection

    build_scenario(v2=True)
    portfolio_evaluate(as_of=AS_OF, chunk_size=10_000)
    one_pass = {e.data_product_id: figures(e) for e in Evaluation.objects.all()}
    Evaluation.objects.all().delete()

    run = EvaluationRun.objects.create(as_of=AS_OF, trigger="command")
    portfolio_evaluate(as_of=AS_OF, run=run, chunk_size=2)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.chunks_total > 1
    assert {e.data_product_id: figures(e) for e in Evaluation.objects.all()} == one_pass
    with connection.cursor() as cursor:  # forgotten when the run ended
        cursor.execute("SELECT count(*) FROM valuation_run_kpi_figures")
        assert cursor.fetchone()[0] == 0


def _shared_figures_zeroed(run_id: int) -> None:
    """Make what a run shared visibly wrong: every product's values zero, no KPI stale."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE valuation_run_kpi_figures"
            " SET figure_values = array_fill(0::numeric, ARRAY[cardinality(figure_values)]), stale = NULL"
            " WHERE run_id = %s AND kpi_count > 0",
            [run_id],
        )
        assert cursor.rowcount > 0


def test_the_chunks_of_a_run_read_the_shared_figures_rather_than_summing(postgres):
    from django.db import connection

    from apps.valuation.services import evaluation_run_begin, evaluation_run_prepare, portfolio_chunk_evaluate

    build_scenario(v2=True)
    run = EvaluationRun.objects.create(as_of=AS_OF, trigger="command")
    run, chunks = evaluation_run_begin(run_id=run.pk, chunk_size=2)
    evaluation_run_prepare(run=run, chunks=len(chunks) - 1)
    active = DataProduct.objects.filter(lifecycle="active").count()
    with connection.cursor() as cursor:  # a row for every active product, one with no attribution too
        cursor.execute("SELECT count(*) FROM valuation_run_kpi_figures WHERE run_id = %s", [run.pk])
        assert cursor.fetchone()[0] == active
    _shared_figures_zeroed(run.pk)
    for chunk in chunks[1:]:  # after READINESS_PART
        portfolio_chunk_evaluate(as_of=AS_OF, chunk=chunk, chunk_size=2, run_id=run.pk)
    evaluations = Evaluation.objects.filter(as_of=AS_OF)
    assert evaluations.count() == active
    assert not evaluations.exclude(value=0).exists()


def test_a_chunk_sums_for_itself_when_a_product_joined_after_its_run_began(postgres):
    from apps.valuation.services import evaluation_run_begin, portfolio_chunk_evaluate

    build_scenario(v2=True)
    run = EvaluationRun.objects.create(as_of=AS_OF, trigger="command")
    _, parts = evaluation_run_begin(run_id=run.pk, chunk_size=10_000)
    assert parts == [READINESS_PART, 0]
    kpi_figures_share(run_id=run.pk, as_of=AS_OF)  # a one-chunk run shares nothing: share by hand
    _shared_figures_zeroed(run.pk)
    newcomer = DataProduct.objects.filter(lifecycle="active").order_by("pk").first()
    factories.DataProductFactory(domain=newcomer.domain, owner=newcomer.owner)
    portfolio_chunk_evaluate(as_of=AS_OF, chunk=0, chunk_size=10_000, run_id=run.pk)
    # The chunk could not trust the shared rows for every product, so it summed for itself.
    assert Evaluation.objects.filter(as_of=AS_OF).exclude(value=0).exists()


def test_chunks_count_ids_from_1_so_whole_chunks_hold_chunk_size_products():
    from apps.valuation.services.gather import chunk_bounds, product_buckets

    first = factories.DataProductFactory(id=4001)
    for product_id in range(4002, 4007):
        factories.DataProductFactory(id=product_id, domain=first.domain, owner=first.owner)
    buckets = product_buckets(chunk_size=2)
    assert buckets == [2000, 2001, 2002]  # six products numbered from an odd id: three chunks, not four
    held = [list(range(*chunk_bounds(chunk=chunk, chunk_size=2))) for chunk in buckets]
    assert held == [[4001, 4002], [4003, 4004], [4005, 4006]]
