"""Writes with rules for costs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.models import DataProduct
from apps.core.errors import BulkValidationError, RowError
from apps.costs.models import CostCategory, CostEntry, CostSource
from meshvalue.periods import Cadence, alignment_error


@dataclass(frozen=True)
class CostInput:
    """One cost line to record (already parsed)."""

    data_product: DataProduct
    period_start: date
    amount: Decimal
    category: str = CostCategory.OTHER
    currency: str = ""
    note: str = ""
    external_id: str | None = None

    def currency_or_default(self) -> str:
        return (self.currency or settings.MESHVALUE_CURRENCY).upper()


def cost_errors(entry: CostInput) -> dict[str, str]:
    """The problems with one cost line, by field name; empty when it can be recorded."""
    errors: dict[str, str] = {}
    message = alignment_error(Cadence.MONTHLY, entry.period_start)
    if message:
        errors["period_start"] = message
    amount = entry.amount
    if not isinstance(amount, Decimal) or not amount.is_finite():
        errors["amount"] = "Enter a finite number."
    elif entry.category == CostCategory.CREDIT and amount > 0:
        errors["amount"] = "A credit is recorded as 0 or a negative amount (a refund, credit or negative adjustment)."
    elif entry.category != CostCategory.CREDIT and amount < 0:
        errors["amount"] = "A cost cannot be negative."
    elif amount.adjusted() >= 12:
        errors["amount"] = "Enter an amount below 10^12."
    elif amount.as_tuple().exponent < -2:  # type: ignore[operator]
        errors["amount"] = "Enter an amount with at most 2 decimal places."
    if entry.currency_or_default() != settings.MESHVALUE_CURRENCY:
        errors["currency"] = (
            f"This installation records costs in {settings.MESHVALUE_CURRENCY}; got {entry.currency.upper()}."
        )
    if entry.category not in CostCategory.values:
        errors["category"] = f"Choose one of: {', '.join(CostCategory.values)}."
    if entry.external_id is not None and len(entry.external_id) > 200:
        errors["external_id"] = "At most 200 characters."
    return errors


def _same_figure(existing: CostEntry, entry: CostInput) -> bool:
    return (
        existing.data_product_id == entry.data_product.pk
        and existing.period_start == entry.period_start
        and existing.category == entry.category
        and existing.amount == entry.amount
        and existing.currency == entry.currency_or_default()
        and existing.note == entry.note
    )


def cost_record(
    *,
    data_product: DataProduct,
    period_start: date,
    amount: Decimal,
    category: str = CostCategory.OTHER,
    currency: str = "",
    note: str = "",
    external_id: str | None = None,
    source: str = CostSource.FORM,
    recorded_by: User | None = None,
) -> CostEntry:
    """Record one month's cost of a product. Raises ValidationError with a message per field.

    The same figure again changes nothing; another figure for the same (product, month, category,
    external_id) becomes the new current revision and the old one is kept.
    """
    entry = CostInput(
        data_product=data_product,
        period_start=period_start,
        amount=amount,
        category=category,
        currency=currency,
        note=note,
        external_id=external_id or None,
    )
    try:
        return costs_record_bulk(entries=[entry], source=source, recorded_by=recorded_by)[0]
    except BulkValidationError as error:
        raise ValidationError({e.field: e.message for e in error.errors}) from error


@dataclass(frozen=True)
class CostsRecorded:
    """What a bulk write did: one CostEntry per line sent, in order, and the counts.

    A line with the same figure as its key's current entry stores nothing (`unchanged`, and that
    entry is returned); every other line is a new revision, a `correction` when it superseded one.
    """

    entries: list[CostEntry]
    stored: int
    corrections: int
    unchanged: int


def costs_record_bulk(
    *, entries: Sequence[CostInput], source: str = CostSource.CSV, recorded_by: User | None = None
) -> list[CostEntry]:
    """Record many cost lines, all or nothing (`costs_record_many`); one CostEntry per line, in order."""
    return costs_record_many(entries=entries, source=source, recorded_by=recorded_by).entries


def costs_record_many(
    *, entries: Sequence[CostInput], source: str = CostSource.CSV, recorded_by: User | None = None
) -> CostsRecorded:
    """Record many cost lines, all or nothing, in a fixed number of queries.

    Returns one CostEntry per input, in order: the current one when it already has the same
    figure, a new current revision otherwise. Two rows of one request for the same (product,
    month, category, external_id) are refused: one of them would silently hide the other.
    """
    row_errors = [
        RowError(row=index, field=field, message=message)
        for index, entry in enumerate(entries, start=1)
        for field, message in cost_errors(entry).items()
    ]
    first_row_of: dict[tuple[int, date, str, str], int] = {}
    for index, entry in enumerate(entries, start=1):
        key = (entry.data_product.pk, entry.period_start, entry.category, entry.external_id or "")
        if key in first_row_of:
            field = "external_id" if entry.external_id else "period_start"
            row_errors.append(
                RowError(
                    row=index,
                    field=field,
                    message=(
                        f"The same product, month, category and external_id as row {first_row_of[key]}: "
                        "combine them or give each its own external_id."
                    ),
                )
            )
        first_row_of.setdefault(key, index)
    if row_errors:
        raise BulkValidationError(sorted(row_errors, key=lambda e: e.row))
    return _costs_append(
        revisions=[CostRevision(entry=entry, source_key=entry.external_id or "") for entry in entries],
        source=source,
        recorded_by=recorded_by,
    )


@dataclass(frozen=True)
class CostRevision:
    """A checked figure to append under `source_key`; `replaces` is the entry an edit starts from."""

    entry: CostInput
    source_key: str
    replaces: int | None = None


def costs_append(
    *,
    revisions: Sequence[CostRevision],
    source: str,
    recorded_by: User | None = None,
    cost_import_id: int | None = None,
) -> list[CostEntry]:
    """Append checked figures as revisions (`_costs_append`); one CostEntry per figure, in order."""
    return _costs_append(
        revisions=revisions, source=source, recorded_by=recorded_by, cost_import_id=cost_import_id
    ).entries


def _costs_append(
    *,
    revisions: Sequence[CostRevision],
    source: str,
    recorded_by: User | None = None,
    cost_import_id: int | None = None,
) -> CostsRecorded:
    """Append checked figures as revisions, in one transaction and a fixed number of queries.

    For each figure, the entries it supersedes are the current one of its (product, month,
    category, source_key) and the one it `replaces` (an edit that moved a line). When that is a
    single entry with the same figure, nothing changes and that entry is returned; otherwise
    they stop being current and the figure is stored as the next revision of its key.
    """
    if not revisions:
        return CostsRecorded(entries=[], stored=0, corrections=0, unchanged=0)
    now = timezone.now()
    product_ids = sorted({r.entry.data_product.pk for r in revisions})
    with transaction.atomic():
        # Serialise writers per product: revisions are numbered from the latest one.
        list(DataProduct.objects.select_for_update().filter(pk__in=product_ids).order_by("pk").values_list("pk"))
        keys = {_key(r) for r in revisions}
        replaced_ids = {r.replaces for r in revisions if r.replaces is not None}
        latest_revision: dict[tuple[int, date, str, str], int] = {}
        current: dict[tuple[int, date, str, str], CostEntry] = {}
        by_id: dict[int, CostEntry] = {}
        candidates = CostEntry.objects.filter(
            Q(
                data_product_id__in=product_ids,
                period_start__in={key[1] for key in keys},
                source_key__in={key[3] for key in keys},
            )
            | Q(pk__in=replaced_ids)
        )
        for stored in candidates:
            key = (stored.data_product_id, stored.period_start, stored.category, stored.source_key)
            by_id[stored.pk] = stored
            latest_revision[key] = max(latest_revision.get(key, 0), stored.revision)
            if stored.is_current:
                current[key] = stored

        results: list[CostEntry | None] = []
        retire_ids: set[int] = set()
        created: list[CostEntry] = []
        corrections = 0
        for revision in revisions:
            key = _key(revision)
            superseded = {current[key].pk} if key in current else set()
            if revision.replaces is not None and revision.replaces in by_id and by_id[revision.replaces].is_current:
                superseded.add(revision.replaces)
            if len(superseded) == 1 and _same_figure(by_id[next(iter(superseded))], revision.entry):
                results.append(by_id[next(iter(superseded))])
                continue
            corrections += bool(superseded)
            retire_ids |= superseded
            latest_revision[key] = latest_revision.get(key, 0) + 1
            entry = revision.entry
            new = CostEntry(
                data_product=entry.data_product,
                period_start=entry.period_start,
                amount=entry.amount,
                currency=entry.currency_or_default(),
                category=entry.category,
                note=entry.note,
                external_id=entry.external_id or None,
                source=source,
                source_key=revision.source_key,
                revision=latest_revision[key],
                is_current=True,
                cost_import_id=cost_import_id,
                recorded_by=recorded_by,
                recorded_at=now,
            )
            created.append(new)
            results.append(None)
        if retire_ids:
            CostEntry.objects.filter(pk__in=retire_ids).update(is_current=False)
        stored_new = iter(CostEntry.objects.bulk_create(created))
    return CostsRecorded(
        entries=[result if result is not None else next(stored_new) for result in results],
        stored=len(created),
        corrections=corrections,
        unchanged=len(revisions) - len(created),
    )


def _key(revision: CostRevision) -> tuple[int, date, str, str]:
    entry = revision.entry
    return (entry.data_product.pk, entry.period_start, entry.category, revision.source_key)


_EDITABLE_COST_FIELDS = ("data_product", "period_start", "amount", "category", "currency", "note", "external_id")


@transaction.atomic
def cost_update(
    *, cost_entry: CostEntry, source: str = CostSource.API, recorded_by: User | None = None, **changes: object
) -> CostEntry:
    """Correct a cost line: the corrected figure is a new current revision, the edited one is kept.

    Same rules as recording one; raises ValidationError per field. Nothing changes when the
    figures are the same.
    """
    unknown = set(changes) - set(_EDITABLE_COST_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    if not cost_entry.is_current:
        raise ValidationError({"id": f"Entry {cost_entry.pk} has been superseded; correct its current revision."})
    merged = {name: changes.get(name, getattr(cost_entry, name)) for name in _EDITABLE_COST_FIELDS}
    merged["external_id"] = merged["external_id"] or None
    entry = CostInput(**merged)  # type: ignore[arg-type]
    errors = cost_errors(entry)
    if errors:
        raise ValidationError(errors)
    # A line imported from a bill keeps its importer's key, so the next import restates it.
    keyed_by_external_id = cost_entry.source_key == (cost_entry.external_id or "")
    source_key = entry.external_id or ("" if keyed_by_external_id else cost_entry.source_key)
    return costs_append(
        revisions=[CostRevision(entry=entry, source_key=source_key, replaces=cost_entry.pk)],
        source=source,
        recorded_by=recorded_by,
    )[0]
