"""Storing value-tracking readiness per domain and evaluation date."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from apps.core.memory import cyclic_gc_paused
from apps.valuation.models import DomainReadiness
from apps.valuation.readiness import readiness_compute
from apps.valuation.services.gather import kpi_freshness_shared
from apps.valuation.services.locks import evaluation_session_tune
from meshvalue.readiness import CHECKS


@transaction.atomic
def readiness_record(*, as_of: date, run_id: int | None = None) -> list[DomainReadiness]:
    """Compute every domain's readiness as of `as_of` and store it (one row per domain and date).

    One set-based gather (`readiness_compute`, a fixed number of queries) and one bulk upsert:
    a re-run for the same date rewrites the same rows. Called once per evaluation run, as a part
    of its own (`run_readiness_record`): a domain's shares span every chunk, and it reads no
    evaluation, so it runs beside the chunks rather than after them. With `run_id`, the KPI
    facts come from the figures the run shared for its chunks (`kpi_freshness_shared`) when it
    shared them: at 10,000 products, probing 20,000 KPIs' latest outcomes again was the longest
    part of readiness.
    """
    evaluation_session_tune()  # no JIT: compiling the gather's five EXISTS took longer than running them
    kpi_freshness = kpi_freshness_shared(run_id=run_id, as_of=as_of) if run_id is not None else None
    with cyclic_gc_paused():  # tens of thousands of small objects, as in an evaluation pass (apps.core.memory)
        computed = readiness_compute(as_of=as_of, kpi_freshness=kpi_freshness)
    rows = [
        DomainReadiness(
            domain_id=domain_id,
            as_of=as_of,
            products=readiness.products,
            ready=readiness.ready,
            passing={check.value: readiness.passing[check] for check in CHECKS},
            failing={check.value: list(readiness.failing[check]) for check in CHECKS},
        )
        for domain_id, readiness in computed.items()
    ]
    for row in rows:
        # The domains were just read; checking each foreign key again would be a query per domain.
        row.full_clean(exclude=["domain"], validate_unique=False, validate_constraints=False)
    return DomainReadiness.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["domain", "as_of"],
        update_fields=["products", "ready", "passing", "failing", "updated_at"],
    )
