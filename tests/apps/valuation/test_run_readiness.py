"""A run's readiness: its own part, read from the KPI figures the run shared, stored exactly once (PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import OperationalError, connections, transaction

from apps.catalog.models import Lifecycle
from apps.core.locks import job_lock
from apps.valuation.models import DomainReadiness, EvaluationPolicy, EvaluationRun, RunStatus
from apps.valuation.readiness import readiness_compute
from apps.valuation.services import READINESS_PART, portfolio_evaluate
from apps.valuation.services import readiness as readiness_service
from apps.valuation.services.evaluate import _READINESS_JOB, run_readiness_record
from apps.valuation.services.gather import kpi_figures_share, kpi_freshness_shared
from tests import factories

from .scenario import AS_OF, build_scenario

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


@pytest.fixture
def shared_freshness(monkeypatch):
    """What each readiness of the test read from its run's shared figures (None: it read for itself)."""
    seen: list[object] = []
    real = readiness_service.kpi_freshness_shared

    def recording(**kwargs):
        freshness = real(**kwargs)
        seen.append(freshness)
        return freshness

    monkeypatch.setattr(readiness_service, "kpi_freshness_shared", recording)
    return seen


def _stored() -> dict[int, tuple]:
    return {
        row.domain_id: (row.products, row.ready, row.passing, row.failing)
        for row in DomainReadiness.objects.filter(as_of=AS_OF)
    }


def _computed() -> dict[int, tuple]:
    """Readiness read the long way: every attribution and each KPI's latest outcome."""
    return {
        domain_id: (
            readiness.products,
            readiness.ready,
            {check.value: count for check, count in readiness.passing.items()},
            {check.value: list(ids) for check, ids in readiness.failing.items()},
        )
        for domain_id, readiness in readiness_compute(as_of=AS_OF).items()
    }


def _a_second_domain_with_longer_staleness() -> dict[str, object]:
    """A domain whose policy waits 4 periods: a KPI three months old is stale for the default, not here."""
    domain = factories.DomainFactory(name="Operations", slug="operations")
    EvaluationPolicy.objects.create(domain=domain, stale_periods=4)
    goal = factories.BusinessGoalFactory(domain=domain)
    kpi = factories.KPIFactory(goal=goal, cadence="monthly")
    factories.MeasurementFactory(kpi=kpi, period_start=date(2026, 4, 1))
    unmeasured = factories.KPIFactory(goal=goal, cadence="weekly")
    patient = factories.DataProductFactory(domain=domain, lifecycle=Lifecycle.ACTIVE, launched_on=date(2025, 1, 1))
    patient.goals.add(goal)
    factories.AttributionFactory(kpi=kpi, data_product=patient)
    waiting = factories.DataProductFactory(domain=domain, lifecycle=Lifecycle.ACTIVE, launched_on=date(2025, 1, 1))
    factories.AttributionFactory(kpi=unmeasured, data_product=waiting)
    return {"domain": domain, "patient": patient, "waiting": waiting}


def test_a_run_in_chunks_reads_readiness_from_its_shared_figures_as_the_long_way_would(shared_freshness):
    build_scenario(v2=True)
    operations = _a_second_domain_with_longer_staleness()
    run = EvaluationRun.objects.create(as_of=AS_OF, trigger="test")

    portfolio_evaluate(as_of=AS_OF, run=run, chunk_size=3)  # several chunks: figures are shared

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.chunks_done.count(READINESS_PART) == 1 and len(run.chunks_done) == run.chunks_total > 2
    assert len(shared_freshness) == 1 and shared_freshness[0] is not None  # the shared figures were read
    stored = _stored()
    assert stored == _computed()
    # Not vacuous: the default's staleness fails some products, the longer one passes its own.
    retail = next(domain for domain in stored if domain != operations["domain"].pk)
    assert stored[retail][3]["outcomes_current"]
    failing_here = stored[operations["domain"].pk][3]["outcomes_current"]
    assert operations["patient"].pk not in failing_here and operations["waiting"].pk in failing_here


def test_a_redelivered_readiness_task_finds_the_part_done_and_writes_nothing(shared_freshness):
    build_scenario()
    run = EvaluationRun.objects.create(as_of=AS_OF, trigger="test")
    portfolio_evaluate(as_of=AS_OF, run=run, chunk_size=3)
    stored = list(DomainReadiness.objects.filter(as_of=AS_OF).values_list("domain_id", "updated_at"))
    assert stored and len(shared_freshness) == 1

    run_readiness_record(run_id=run.pk, as_of=AS_OF)

    assert len(shared_freshness) == 1
    assert list(DomainReadiness.objects.filter(as_of=AS_OF).values_list("domain_id", "updated_at")) == stored


def test_a_run_in_one_chunk_shares_nothing_and_readiness_reads_for_itself(shared_freshness):
    build_scenario(v2=True)
    _a_second_domain_with_longer_staleness()
    run = EvaluationRun.objects.create(as_of=AS_OF, trigger="test")

    portfolio_evaluate(as_of=AS_OF, run=run, chunk_size=1_000_000)

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and shared_freshness == [None]
    assert _stored() == _computed()


def test_shared_figures_missing_an_active_product_are_not_used():
    build_scenario()
    run = EvaluationRun.objects.create(as_of=AS_OF, trigger="test")
    portfolio_evaluate(as_of=AS_OF, run=run, chunk_size=3)
    assert kpi_freshness_shared(run_id=run.pk, as_of=AS_OF) is None  # the run ended: its figures are gone

    assert kpi_figures_share(run_id=run.pk, as_of=AS_OF) > 0
    assert kpi_freshness_shared(run_id=run.pk, as_of=AS_OF) is not None
    factories.DataProductFactory(lifecycle=Lifecycle.ACTIVE)  # created after the run summed
    assert kpi_freshness_shared(run_id=run.pk, as_of=AS_OF) is None
    EvaluationPolicy.objects.filter(domain__isnull=True).update(stale_periods=3)
    assert kpi_freshness_shared(run_id=run.pk, as_of=AS_OF) is None  # summed for other policies


def test_the_part_held_elsewhere_makes_the_task_wait_then_retry(settings):
    build_scenario()
    run = EvaluationRun.objects.create(as_of=AS_OF, status=RunStatus.RUNNING, chunks_total=2)
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:  # a redelivered copy of the task, in the middle of storing it
        try:
            with transaction.atomic():
                job_lock(_READINESS_JOB, run.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        settings.MESHVALUE_EVALUATION_LOCK_TIMEOUT = "300ms"
        with pytest.raises(OperationalError, match="lock timeout"):  # the task waits, then is retried
            run_readiness_record(run_id=run.pk, as_of=AS_OF)
    finally:
        release.set()
        holder.join(timeout=10)
    assert not DomainReadiness.objects.filter(as_of=AS_OF).exists()

    run_readiness_record(run_id=run.pk, as_of=AS_OF)  # the holder let go without storing

    assert DomainReadiness.objects.filter(as_of=AS_OF).exists()
    run.refresh_from_db()
    assert run.chunks_done == [READINESS_PART]
