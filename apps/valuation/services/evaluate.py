"""Evaluate the portfolio as of a date: gather set-based, apply the pure rules, write in bulk."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.bets.services import bets_measure_due
from apps.core.locks import job_lock
from apps.core.memory import cyclic_gc_paused
from apps.core.sql import copy_optional, copy_text, identity_ids
from apps.governance.services import alerts_reconcile
from apps.valuation.models import EVALUATION_FIGURES, Evaluation, EvaluationRun, RunStatus
from meshvalue.valuation import Policy, Valuation, evaluate

from .gather import (
    Scope,
    chunk_bounds,
    kpi_figures_forget,
    kpi_figures_share,
    product_buckets,
    product_inputs_gather,
)
from .locks import alerts_lock, evaluation_lock, evaluation_session_tune
from .readiness import readiness_record
from .rollup import monthly_rollup_refresh

# Rewritten when a date is evaluated again; `run` and `created_at` keep pointing at the first run.
_UPDATED_FIELDS = list(EVALUATION_FIGURES)

logger = logging.getLogger(__name__)

# The part of a run (beside its chunks, numbered from 0) that stores each domain's readiness. It
# reads no evaluation, so a second worker computes it while the first evaluates a chunk.
READINESS_PART = -1
_READINESS_JOB = "valuation.readiness"  # its lock, per run: whoever holds it stores the part


@dataclass
class EvaluationSummary:
    """What an evaluation pass did."""

    as_of: date
    products_evaluated: int = 0
    alerts_opened: int = 0
    alerts_resolved: int = 0
    recommendations: dict[str, int] = field(default_factory=dict)

    def add(self, other: EvaluationSummary) -> None:
        self.products_evaluated += other.products_evaluated
        self.alerts_opened += other.alerts_opened
        self.alerts_resolved += other.alerts_resolved
        for recommendation, count in other.recommendations.items():
            self.recommendations[recommendation] = self.recommendations.get(recommendation, 0) + count


def _evaluation_row(valuation: Valuation, policy: Policy, run_id: int | None) -> Evaluation:
    return Evaluation(
        data_product_id=valuation.product_id,
        as_of=valuation.as_of,
        run_id=run_id,
        value=valuation.value,
        cost=valuation.cost,
        ratio=valuation.ratio,
        net=valuation.net,
        recent_value=valuation.recent_value,
        recent_cost=valuation.recent_cost,
        recent_ratio=valuation.recent_ratio,
        recommendation=valuation.recommendation.value,
        reasons=list(valuation.reasons),
        signals=[{"kind": signal.kind.value, "message": signal.message} for signal in valuation.signals],
        window_days=policy.window_days,
        recent_days=policy.recent_days,
        grace_days=policy.grace_days,
        retire_below=policy.retire_below,
        invest_above=policy.invest_above,
        stale_periods=policy.stale_periods,
    )


def evaluations_upsert(
    *, valuations: list[Valuation], policies: dict[int, Policy], run_id: int | None
) -> dict[int, int]:
    """Write one evaluation per valuation in one statement (unique per product and date); ids by product id."""
    if not valuations:
        return {}
    if connection.vendor == "postgresql":
        return _upsert_postgresql(valuations, policies, run_id)
    rows = [_evaluation_row(v, policies[v.product_id], run_id) for v in valuations]
    Evaluation.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["data_product", "as_of"], update_fields=_UPDATED_FIELDS
    )
    return {row.data_product_id: row.pk for row in rows}


_LOAD_COLUMNS = ["data_product_id", *_UPDATED_FIELDS]


def _upsert_postgresql(valuations: list[Valuation], policies: dict[int, Policy], run_id: int | None) -> dict[int, int]:
    """COPY the rows: straight into the table for a date evaluated for the first time, else upsert.

    Building 10,000 model instances for `bulk_create` cost more than all the evaluation's reads;
    COPY streams text rows, and the server stores each while the client writes the next. The daily
    job evaluates a new date, so its rows go straight in with ids drawn beforehand. A date evaluated
    again (a re-run, a backfill) is COPYed into a temporary table and merged with one `INSERT ...
    SELECT ... ON CONFLICT DO UPDATE`; so is a first write that meets rows another pass stored
    meanwhile (a run cut into chunks of another size: the savepoint rolls the COPY back).
    """
    as_of = valuations[0].as_of
    product_ids = [valuation.product_id for valuation in valuations]
    if not _evaluated_on(as_of, min(product_ids), max(product_ids)):
        try:
            with transaction.atomic():
                return _insert_copy(valuations, policies, run_id)
        except IntegrityError:
            pass
    return _upsert_copy(valuations, policies, run_id)


def _evaluated_on(as_of: date, first_id: int, last_id: int) -> bool:
    """Whether a product with an id between the two (inclusive) has an evaluation of `as_of` already."""
    return Evaluation.objects.filter(as_of=as_of, data_product_id__gte=first_id, data_product_id__lte=last_id).exists()


def _insert_copy(valuations: list[Valuation], policies: dict[int, Policy], run_id: int | None) -> dict[int, int]:
    table = Evaluation._meta.db_table
    ids = identity_ids(table, len(valuations))
    head = f"\t{valuations[0].as_of.isoformat()}\t{copy_optional(run_id)}\t{timezone.now().isoformat()}\t"
    # Django's wrapper: a unique violation during the COPY is raised as IntegrityError.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        columns = ", ".join(["id", "as_of", "run_id", "created_at", *_LOAD_COLUMNS])
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            # Line by line: psycopg sends every 32 KB, so the server stores rows while the next are written.
            write = copy.write
            for evaluation_id, line in zip(ids, _copy_lines(valuations, policies), strict=True):
                write(f"{evaluation_id}{head}{line}")
    return {valuation.product_id: evaluation_id for valuation, evaluation_id in zip(valuations, ids, strict=True)}


def _upsert_copy(valuations: list[Valuation], policies: dict[int, Policy], run_id: int | None) -> dict[int, int]:
    table = Evaluation._meta.db_table
    columns = ", ".join(_LOAD_COLUMNS)
    # Only identifiers of our own model and constants go into the text; every value is a parameter.
    create = " ".join(
        [
            "DROP TABLE IF EXISTS pg_temp.evaluation_load;",
            "CREATE TEMPORARY TABLE evaluation_load ON COMMIT DROP AS SELECT",
            columns,
            "FROM",
            table,
            "WITH NO DATA",
        ]
    )
    upsert = " ".join(
        [
            "INSERT INTO",
            table,
            "(as_of, run_id, created_at,",
            columns,
            ") SELECT %s, %s, now(),",
            columns,
            "FROM evaluation_load ON CONFLICT (data_product_id, as_of) DO UPDATE SET",
            ", ".join(f"{name} = EXCLUDED.{name}" for name in _UPDATED_FIELDS),
            "RETURNING data_product_id, id",
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(create)
        with cursor.cursor.copy(f"COPY evaluation_load ({columns}) FROM STDIN") as copy:
            write = copy.write
            for line in _copy_lines(valuations, policies):
                write(line)
        cursor.execute(upsert, [valuations[0].as_of, run_id])
        return dict(cursor.fetchall())


def _copy_lines(valuations: list[Valuation], policies: dict[int, Policy]) -> Iterator[str]:
    """One line of COPY's text format per valuation, the columns of `_LOAD_COLUMNS` in order."""
    # The JSON of a list of strings, exactly as json.dumps writes it, without its per-call setup.
    encode = json.encoder.encode_basestring_ascii
    policy_columns: dict[int, str] = {}  # by id(): a pass shares a few Policy objects
    for valuation in valuations:
        policy = policies[valuation.product_id]
        policy_text = policy_columns.get(id(policy))
        if policy_text is None:
            policy_text = policy_columns[id(policy)] = "\t".join(
                map(
                    str,
                    (
                        policy.window_days,
                        policy.recent_days,
                        policy.grace_days,
                        policy.retire_below,
                        policy.invest_above,
                        policy.stale_periods,
                    ),
                )
            )
        signals = (
            json.dumps([{"kind": signal.kind.value, "message": signal.message} for signal in valuation.signals])
            if valuation.signals
            else "[]"
        )
        reasons = "[" + ", ".join(map(encode, valuation.reasons)) + "]"
        yield (
            f"{valuation.product_id}\t{valuation.value}\t{valuation.cost}\t{copy_optional(valuation.ratio)}\t"
            f"{valuation.net}\t{valuation.recent_value}\t{valuation.recent_cost}\t"
            f"{copy_optional(valuation.recent_ratio)}\t{valuation.recommendation.value}\t"
            f"{copy_text(reasons)}\t{copy_text(signals)}\t{policy_text}\n"
        )


def portfolio_chunk_evaluate(
    *, as_of: date, chunk: int = 0, chunk_size: int | None = None, run_id: int | None = None
) -> EvaluationSummary:
    """Evaluate the active products with ids in chunk `chunk` (all of them when `chunk_size` is None).

    A fixed number of queries whatever the number of products: a lock, the set-based reads,
    the measurement of due bets, one upsert of evaluations (unique per product and date, so a
    re-run rewrites the same rows) and one alert pass, in one transaction. Idempotent: running
    it twice for a date changes nothing the second time.
    """
    # Called outside any transaction (a task, the daily job), the pass's transaction is its own.
    own_transaction = not connection.in_atomic_block
    with cyclic_gc_paused():  # a pass builds a few hundred thousand small objects (apps.core.memory)
        return _chunk_evaluate(
            as_of=as_of, chunk=chunk, chunk_size=chunk_size, run_id=run_id, own_transaction=own_transaction
        )


@transaction.atomic
def _chunk_evaluate(
    *, as_of: date, chunk: int, chunk_size: int | None, run_id: int | None, own_transaction: bool
) -> EvaluationSummary:
    scope = (
        Scope(as_of, *chunk_bounds(chunk=chunk, chunk_size=chunk_size), run_id=run_id)
        if chunk_size
        else Scope(as_of, run_id=run_id)
    )
    evaluation_session_tune()
    evaluation_lock(as_of=as_of, chunk=chunk)
    # Bets due for review are measured before they are read, so their alerts show the proposed outcome.
    gathered = product_inputs_gather(
        scope,
        bets_measure=lambda: bets_measure_due(as_of=as_of, product_range=scope.product_range),
        sums_aside=own_transaction,
    )
    valuations = [evaluate(product, as_of) for product in gathered.products]
    policies = {product.product_id: product.policy for product in gathered.products}
    evaluation_ids = evaluations_upsert(valuations=valuations, policies=policies, run_id=run_id)
    alerts_lock()
    alert_pass = alerts_reconcile(
        as_of=as_of,
        product_range=scope.product_range,
        valuations=valuations,
        evaluation_ids=evaluation_ids,
        skip=gathered.later_evaluated,
        run_id=run_id,
    )
    recommendations: dict[str, int] = {}
    for valuation in valuations:
        recommendations[valuation.recommendation.value] = recommendations.get(valuation.recommendation.value, 0) + 1
    summary = EvaluationSummary(
        as_of=as_of,
        products_evaluated=len(valuations),
        alerts_opened=len(alert_pass.opened) + len(alert_pass.reopened),
        alerts_resolved=len(alert_pass.resolved),
        recommendations=recommendations,
    )
    if run_id is not None:
        _run_chunk_record(run_id=run_id, chunk=chunk, summary=summary)
    return summary


def _run_chunk_record(*, run_id: int, chunk: int, summary: EvaluationSummary) -> None:
    """Count a finished chunk in its run once, even when a redelivered task runs it again."""
    run = EvaluationRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None or chunk in run.chunks_done:
        return
    run.chunks_done = [*run.chunks_done, chunk]
    run.products_evaluated += summary.products_evaluated
    run.alerts_opened += summary.alerts_opened
    run.alerts_resolved += summary.alerts_resolved
    if len(run.chunks_done) >= run.chunks_total and run.status != RunStatus.FAILED:
        run.status = RunStatus.SUCCEEDED
        run.finished_at = timezone.now()
        kpi_figures_forget(run_id=run_id)
    run.save(
        update_fields=[
            "chunks_done",
            "products_evaluated",
            "alerts_opened",
            "alerts_resolved",
            "status",
            "finished_at",
        ]
    )


@transaction.atomic
def run_readiness_record(*, run_id: int, as_of: date) -> EvaluationSummary:
    """The readiness part of run `run_id`: each domain's readiness as of `as_of`, stored and counted once.

    Queued with the chunks, once the run is prepared, so it reads the KPI facts the run shared
    (`readiness_record`). The part's lock (waited for within the evaluation's lock timeout, so
    a stuck holder turns into a retry) keeps a redelivered task from storing it twice at once;
    whoever holds it stores the readiness unless the run already counts the part done.
    """
    evaluation_session_tune()
    job_lock(_READINESS_JOB, run_id)
    summary = EvaluationSummary(as_of=as_of)
    done = EvaluationRun.objects.filter(pk=run_id).values_list("chunks_done", flat=True).first() or []
    if READINESS_PART in done:
        return summary
    readiness_record(as_of=as_of, run_id=run_id)
    _run_chunk_record(run_id=run_id, chunk=READINESS_PART, summary=summary)
    return summary


def run_part_execute(*, run_id: int | None, as_of: date, part: int, chunk_size: int) -> EvaluationSummary:
    """Do one part of a run: evaluate chunk `part`, or (READINESS_PART) store the domains' readiness."""
    if part == READINESS_PART:
        if run_id is None:
            readiness_record(as_of=as_of)
            return EvaluationSummary(as_of=as_of)
        return run_readiness_record(run_id=run_id, as_of=as_of)
    return portfolio_chunk_evaluate(as_of=as_of, chunk=part, chunk_size=chunk_size, run_id=run_id)


def chunk_size_setting() -> int:
    return max(1, int(settings.MESHVALUE_EVALUATION_CHUNK_SIZE))


@transaction.atomic
def evaluation_run_begin(*, run_id: int, chunk_size: int) -> tuple[EvaluationRun | None, list[int]]:
    """Mark a run as running and return it with the parts still to do (none if it is finished or gone).

    The parts: READINESS_PART first, then the chunks. All of them start once
    `evaluation_run_prepare` has readied what they read (the readiness part reads the shared KPI
    figures too, and nothing the chunks write).
    """
    run = EvaluationRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None or run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
        return run, []
    buckets = product_buckets(chunk_size=chunk_size)
    parts = [READINESS_PART, *buckets] if buckets else []
    if run.status == RunStatus.QUEUED:
        run.status = RunStatus.RUNNING
        run.started_at = timezone.now()
        run.chunks_total = len(parts)
        run.chunks_done = []
        if not parts:
            run.status = RunStatus.SUCCEEDED
            run.finished_at = run.started_at
        run.save(update_fields=["status", "started_at", "chunks_total", "chunks_done", "finished_at"])
    return run, [part for part in parts if part not in run.chunks_done]


@transaction.atomic
def evaluation_run_prepare(*, run: EvaluationRun, chunks: int) -> None:
    """Before a run's `chunks` chunks start: the months touched since the last run, in the rollup,
    and (for more than one chunk) every product's KPI figures, which the chunks then read instead
    of each scanning the measurements (`kpi_figures_share`), and the readiness part instead of
    probing each KPI's latest outcome.

    Its own transaction, after `evaluation_run_begin` committed. Idempotent: a redelivered start
    prepares again, and a part that finds no shared figures for its products reads for itself.
    """
    monthly_rollup_refresh()
    kpi_figures_forget()
    if chunks > 1:
        kpi_figures_share(run_id=run.pk, as_of=run.as_of)


def evaluation_run_fail(*, run_id: int, error: str) -> None:
    """Record that a run failed for good (after its retries)."""
    EvaluationRun.objects.filter(pk=run_id).exclude(status=RunStatus.SUCCEEDED).update(
        status=RunStatus.FAILED, error=error[:4000], finished_at=timezone.now()
    )
    kpi_figures_forget(run_id=run_id)


def portfolio_evaluate(
    *, as_of: date, run: EvaluationRun | None = None, chunk_size: int | None = None
) -> EvaluationSummary:
    """Evaluate every active product as of `as_of` here and now, part after part (no broker needed).

    Each chunk commits on its own, exactly as the Celery tasks do, and so does the readiness part.
    """
    chunk_size = chunk_size or chunk_size_setting()
    summary = EvaluationSummary(as_of=as_of)
    if run is not None:
        _, parts = evaluation_run_begin(run_id=run.pk, chunk_size=chunk_size)
        if parts:
            evaluation_run_prepare(run=run, chunks=sum(part != READINESS_PART for part in parts))
    else:
        monthly_rollup_refresh()
        parts = [*product_buckets(chunk_size=chunk_size), READINESS_PART]
    for part in parts:
        summary.add(
            run_part_execute(run_id=run.pk if run is not None else None, as_of=as_of, part=part, chunk_size=chunk_size)
        )
    if run is not None:
        run.refresh_from_db()
    return summary


def valuations_preview(*, as_of: date, policy_overrides: dict[int | None, Policy]) -> list[Valuation]:
    """What the rules would say about every active product as of `as_of` with some policies replaced.

    Key None replaces the default policy, an int the policy of that domain. Set-based like an
    evaluation pass (a fixed number of queries) and stores nothing: for a policy editor's preview.
    """
    gathered = product_inputs_gather(Scope(as_of), policy_overrides=policy_overrides)
    return [evaluate(product, as_of) for product in gathered.products]
