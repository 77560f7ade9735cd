"""Billing-export imports: read the file, allocate it with the rules, write cost revisions.

`cost_import_run` is what the Celery task, `manage.py import_costs` and the benchmark call. It
reads the file outside any transaction (DuckDB streams it; progress is saved as it goes, so the
browser can show it), then writes everything in one transaction: the import's sums by allocation
key, the cost revisions, the reconciliation. A failure stores no cost, only the failed status
and its errors. It is idempotent: an import that succeeded is not run again, and a redelivered
task (a worker killed mid-import) starts over from the file and finishes once. Revisions are
keyed (focus, billing account[, sub account], month, category): the same bill again changes
nothing, a restated month changes only the totals that changed. An import stands for whole
months of each billing account in it: a product whose total for such a month is gone from the
restated bill gets a revision of 0.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.models import DataProduct
from apps.costs import allocation as alloc
from apps.costs.focus import AggregateLine, FocusError, FocusRead, read_focus
from apps.costs.models import (
    AllocationRule,
    CostEntry,
    CostImport,
    CostImportAggregate,
    CostImportStatus,
    CostSource,
    ExchangeRate,
)
from apps.costs.services import CostInput, CostRevision, costs_append

logger = logging.getLogger(__name__)
ZERO = Decimal(0)


def file_checksum(path: str | Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def import_directory() -> Path:
    """Where uploaded billing files wait for the worker (shared by web and worker processes)."""
    path = Path(settings.MESHVALUE_COST_IMPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


@transaction.atomic
def cost_import_create(
    *, file_name: str, file_path: str | Path, created_by: User | None = None, dispatch: bool = True
) -> CostImport:
    """Register an import of the file at `file_path` and queue it (after commit) unless `dispatch` is off."""
    cost_import = CostImport(
        file_name=file_name[:255],
        file_path=str(file_path),
        checksum=file_checksum(file_path),
        created_by=created_by,
    )
    cost_import.full_clean()
    cost_import.save()
    if dispatch:
        from apps.costs.tasks import cost_import_execute  # the task module imports this one

        cost_import_execute.delay_on_commit(cost_import.pk)
    return cost_import


def rules_current() -> list[alloc.Rule]:
    """The stored allocation rules as plain values, in position order (two queries)."""
    rules = AllocationRule.objects.prefetch_related("targets").order_by("position", "id")
    return [
        alloc.Rule(
            id=rule.pk,
            position=rule.position,
            name=rule.name,
            tag_key=rule.tag_key,
            tag_value=rule.tag_value,
            sub_account_id=rule.sub_account_id,
            resource_id_prefix=rule.resource_id_prefix,
            service_name=rule.service_name,
            split=rule.split,
            as_licenses=rule.as_licenses,
            targets=tuple((target.data_product_id, target.weight) for target in rule.targets.all()),
        )
        for rule in rules
    ]


def rates_for(lines: Sequence[AggregateLine]) -> dict[tuple[str, date], Decimal]:
    """The exchange rates the bill's (currency, month) pairs need (one query)."""
    base = settings.MESHVALUE_CURRENCY
    currencies = {line.currency for line in lines if line.currency != base}
    months = {line.month for line in lines}
    if not currencies:
        return {}
    return {
        (rate.currency, rate.month): rate.rate
        for rate in ExchangeRate.objects.filter(currency__in=currencies, month__in=months)
    }


@dataclass
class ImportOutcome:
    """What an import did (or, dry, would do)."""

    read: FocusRead
    allocation: alloc.Allocation
    result: dict
    created: int = 0
    unchanged: int = 0


def _allocate(lines: Sequence[AggregateLine], rules: Sequence[alloc.Rule]) -> alloc.Allocation:
    rates = rates_for(lines)
    missing = alloc.missing_rates(lines, rates, settings.MESHVALUE_CURRENCY)
    if missing:
        raise FocusError(missing)
    return alloc.allocate(lines, rules, rates=rates, base_currency=settings.MESHVALUE_CURRENCY)


def _summary(allocation: alloc.Allocation) -> dict:
    product_ids = {key[0] for key in allocation.entries}
    names = dict(DataProduct.objects.filter(pk__in=product_ids).values_list("pk", "name"))
    return alloc.summary(allocation, product_names=names)


def cost_import_preview(*, rules: Sequence[alloc.Rule], cost_import: CostImport | None = None) -> dict | None:
    """What `rules` would allocate from an import's stored sums (default: the last succeeded import).

    Nothing is written. None when there is no import to preview against.
    """
    if cost_import is None:
        cost_import = CostImport.objects.filter(status=CostImportStatus.SUCCEEDED).order_by("-finished_at").first()
    if cost_import is None:
        return None
    lines = _stored_lines(cost_import)
    try:
        allocation = _allocate(lines, rules)
    except FocusError as error:
        return {"cost_import": cost_import.pk, "errors": error.errors}
    return {"cost_import": cost_import.pk, **_summary(allocation)}


def cost_import_dry_run(*, path: str | Path, progress: Callable[[int], None] | None = None) -> ImportOutcome:
    """Read and allocate a file with the current rules, storing nothing. Raises FocusError."""
    read = read_focus(path, progress=progress)
    allocation = _allocate(read.aggregates, rules_current())
    return ImportOutcome(read=read, allocation=allocation, result=_summary(allocation))


def _save_progress(import_id: int, percent: int) -> None:
    CostImport.objects.filter(pk=import_id, status=CostImportStatus.RUNNING).update(progress=min(max(percent, 0), 99))


def cost_import_run(
    *, import_id: int, progress: Callable[[int], None] | None = None, remove_file: bool = True
) -> CostImport | None:
    """Run import `import_id` to its end (succeeded or failed). Idempotent; None when the row is gone."""
    cost_import = CostImport.objects.filter(pk=import_id).first()
    if cost_import is None:
        logger.warning("cost import %s is gone; nothing to do", import_id)
        return None
    if cost_import.status == CostImportStatus.SUCCEEDED:
        return cost_import
    CostImport.objects.filter(pk=import_id).update(
        status=CostImportStatus.RUNNING, progress=0, started_at=timezone.now(), errors=[]
    )

    def report(percent: int) -> None:
        _save_progress(import_id, percent)
        if progress is not None:
            progress(percent)

    try:
        read = read_focus(cost_import.file_path, progress=report)
        allocation = _allocate(read.aggregates, rules_current())
    except (FocusError, OSError) as error:
        messages = error.errors if isinstance(error, FocusError) else [f"The file cannot be opened: {error}"]
        return _fail(import_id, messages)
    with transaction.atomic():
        locked = CostImport.objects.select_for_update().filter(pk=import_id).first()
        if locked is None:
            return None
        if locked.status == CostImportStatus.SUCCEEDED:  # a duplicate delivery finished first
            return locked
        _lock_months(locked.checksum, {line.month for line in read.aggregates})
        CostImportAggregate.objects.filter(cost_import=locked).delete()
        _store_aggregates(locked, read.aggregates)
        outcome = _write_revisions(locked, read.aggregates, allocation)
        locked.billing_currency = read.currencies[0] if len(read.currencies) == 1 else ""
        locked.rows_read = read.rows_read
        locked.total_effective = read.total_effective
        locked.total_billed = read.total_billed
        locked.zero_effective_lines = read.zero_effective_lines
        locked.allocated = allocation.allocated
        locked.unallocated = allocation.unallocated
        locked.warnings = read.warnings + allocation.warnings
        if len(read.currencies) > 1:
            locked.warnings.append(f"The file mixes currencies ({', '.join(read.currencies)}); each was converted.")
        locked.result = {**_summary(allocation), **outcome, "currencies": read.currencies}
        locked.status = CostImportStatus.SUCCEEDED
        locked.progress = 100
        locked.finished_at = timezone.now()
        if remove_file:
            _remove_upload(locked.file_path)
            locked.file_path = ""
        locked.save()
    return locked


AGGREGATE_COLUMNS = (
    "cost_import_id",
    "month",
    "billing_account",
    "sub_account",
    "service_name",
    "resource_id",
    "tags",
    "category",
    "currency",
    "effective",
    "billed",
    "lines",
    "zero_effective_lines",
)


def _store_aggregates(cost_import: CostImport, lines: Sequence[AggregateLine]) -> None:
    """The import's sums by allocation key: COPY on PostgreSQL (several times bulk_create's speed)."""
    if connection.vendor != "postgresql":
        CostImportAggregate.objects.bulk_create(
            [
                CostImportAggregate(
                    cost_import=cost_import,
                    **{name: getattr(line, name) for name in AGGREGATE_COLUMNS[1:] if name != "tags"},
                    tags=dict(line.tags),
                )
                for line in lines
            ],
            batch_size=5000,
        )
        return
    table = CostImportAggregate._meta.db_table
    statement = f"COPY {table} ({', '.join(AGGREGATE_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for line in lines:
            copy.write_row(
                (
                    cost_import.pk,
                    line.month,
                    line.billing_account,
                    line.sub_account,
                    line.service_name,
                    line.resource_id,
                    json.dumps(dict(line.tags)),
                    line.category,
                    line.currency,
                    line.effective,
                    line.billed,
                    line.lines,
                    line.zero_effective_lines,
                )
            )


def cost_import_reapply(*, cost_import: CostImport) -> CostImport:
    """Allocate a past import's stored sums again with the current rules; changed totals become revisions."""
    lines = _stored_lines(cost_import)
    allocation = _allocate(lines, rules_current())  # FocusError names a missing exchange rate
    with transaction.atomic():
        locked = CostImport.objects.select_for_update().get(pk=cost_import.pk)
        _lock_months(locked.checksum, {line.month for line in lines})
        outcome = _write_revisions(locked, lines, allocation)
        locked.allocated = allocation.allocated
        locked.unallocated = allocation.unallocated
        locked.result = {**_summary(allocation), **outcome, "currencies": sorted({line.currency for line in lines})}
        locked.save(update_fields=["allocated", "unallocated", "result"])
    return locked


def _write_revisions(cost_import: CostImport, lines: Sequence[AggregateLine], allocation: alloc.Allocation) -> dict:
    """Append the allocation as cost revisions; zero what a restated month no longer has."""
    months = {line.month for line in lines}
    accounts = {line.billing_account for line in lines}
    product_ids = {key[0] for key in allocation.entries}
    products = DataProduct.objects.in_bulk(product_ids)
    revisions = [
        CostRevision(
            entry=CostInput(
                data_product=products[product_id],
                period_start=month,
                amount=amount,
                category=category,
                currency=settings.MESHVALUE_CURRENCY,
                note="From the cloud bill (FOCUS)",
            ),
            source_key=source_key,
        )
        for (product_id, month, category, source_key), amount in sorted(
            allocation.entries.items(), key=lambda item: (item[0][0], item[0][1], item[0][2], item[0][3])
        )
    ]
    stale = [
        entry
        for entry in CostEntry.objects.filter(
            source=CostSource.FOCUS, is_current=True, period_start__in=months
        ).select_related("data_product")
        if entry.source_key.split(":", 2)[1] in accounts
        and (entry.data_product_id, entry.period_start, entry.category, entry.source_key) not in allocation.entries
        and entry.amount != 0
    ]
    revisions += [
        CostRevision(
            entry=CostInput(
                data_product=entry.data_product,
                period_start=entry.period_start,
                amount=Decimal("0.00"),
                category=entry.category,
                currency=settings.MESHVALUE_CURRENCY,
                note="From the cloud bill (FOCUS): no longer in the restated bill",
            ),
            source_key=entry.source_key,
        )
        for entry in stale
    ]
    started = timezone.now()
    stored = costs_append(
        revisions=revisions,
        source=CostSource.FOCUS,
        recorded_by=cost_import.created_by,
        cost_import_id=cost_import.pk,
    )
    created = sum(1 for entry in stored if entry.recorded_at >= started)
    return {"revisions_created": created, "entries_unchanged": len(stored) - created, "zeroed": len(stale)}


def _stored_lines(cost_import: CostImport) -> list[AggregateLine]:
    return [
        AggregateLine(
            month=row.month,
            currency=row.currency,
            billing_account=row.billing_account,
            sub_account=row.sub_account,
            service_name=row.service_name,
            resource_id=row.resource_id,
            tags=tuple(sorted(row.tags.items())),
            category=row.category,
            effective=row.effective,
            billed=row.billed,
            lines=row.lines,
            zero_effective_lines=row.zero_effective_lines,
        )
        for row in CostImportAggregate.objects.filter(cost_import=cost_import).iterator(chunk_size=5000)
    ]


def _lock_months(checksum: str, months: set[date]) -> None:
    """Serialise imports of the same file and of the same months (PostgreSQL advisory locks, this transaction)."""
    if connection.vendor != "postgresql":
        return
    names = [
        f"meshvalue.cost-import.file.{checksum}",
        *(f"meshvalue.cost-import.month.{m:%Y-%m}" for m in sorted(months)),
    ]
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])


def _fail(import_id: int, errors: list[str]) -> CostImport | None:
    CostImport.objects.filter(pk=import_id).exclude(status=CostImportStatus.SUCCEEDED).update(
        status=CostImportStatus.FAILED, errors=errors, finished_at=timezone.now()
    )
    return CostImport.objects.filter(pk=import_id).first()


def cost_import_fail(*, import_id: int, error: str) -> None:
    """Record that an import stopped on an unexpected error (the task calls this)."""
    _fail(import_id, [error])


def _remove_upload(path: str) -> None:
    """Delete an uploaded file once imported (raw lines are never kept); files elsewhere are left alone."""
    if not path:
        return
    try:
        file_path = Path(path).resolve()
        if import_directory().resolve() in file_path.parents:
            file_path.unlink(missing_ok=True)
    except OSError:
        logger.warning("could not remove the imported file %s", path)
