"""Writes with rules for costs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.models import DataProduct
from apps.core.errors import BulkValidationError, RowError
from apps.costs.models import CostCategory, CostEntry
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


def _same_line(existing: CostEntry, entry: CostInput) -> bool:
    return (
        existing.data_product_id == entry.data_product.pk
        and existing.period_start == entry.period_start
        and existing.amount == entry.amount
        and existing.category == entry.category
        and existing.currency == entry.currency_or_default()
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
    recorded_by: User | None = None,
) -> CostEntry:
    """Record one month's cost of a product. Raises ValidationError with a message per field.

    A line whose `external_id` is already stored with the same figures is returned unchanged
    (re-importing a file changes nothing); with different figures it is refused.
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
        return costs_record_bulk(entries=[entry], recorded_by=recorded_by)[0]
    except BulkValidationError as error:
        raise ValidationError({e.field: e.message for e in error.errors}) from error


def costs_record_bulk(*, entries: Sequence[CostInput], recorded_by: User | None = None) -> list[CostEntry]:
    """Record many cost lines, all or nothing, in a fixed number of queries.

    Returns one CostEntry per input, in order: the stored one for lines already imported
    under the same `external_id`, a new one otherwise.
    """
    row_errors = [
        RowError(row=index, field=field, message=message)
        for index, entry in enumerate(entries, start=1)
        for field, message in cost_errors(entry).items()
    ]
    external_ids = [entry.external_id for entry in entries if entry.external_id]
    existing = {c.external_id: c for c in CostEntry.objects.filter(external_id__in=external_ids)}
    first_row_of: dict[str, int] = {}
    for index, entry in enumerate(entries, start=1):
        if not entry.external_id:
            continue
        stored = existing.get(entry.external_id)
        if stored is not None and not _same_line(stored, entry):
            row_errors.append(
                RowError(
                    row=index,
                    field="external_id",
                    message=f"{entry.external_id} is already recorded with other figures (entry {stored.pk}).",
                )
            )
        if entry.external_id in first_row_of:
            row_errors.append(
                RowError(
                    row=index,
                    field="external_id",
                    message=f"{entry.external_id} appears again (first in row {first_row_of[entry.external_id]}).",
                )
            )
        first_row_of.setdefault(entry.external_id, index)
    if row_errors:
        raise BulkValidationError(sorted(row_errors, key=lambda e: e.row))

    now = timezone.now()
    new_entries = [
        CostEntry(
            data_product=entry.data_product,
            period_start=entry.period_start,
            amount=entry.amount,
            currency=entry.currency_or_default(),
            category=entry.category,
            note=entry.note,
            external_id=entry.external_id or None,
            recorded_by=recorded_by,
            recorded_at=now,
        )
        for entry in entries
        if not (entry.external_id and entry.external_id in existing)
    ]
    with transaction.atomic():
        created = iter(CostEntry.objects.bulk_create(new_entries))
    return [
        existing[entry.external_id] if entry.external_id and entry.external_id in existing else next(created)
        for entry in entries
    ]


_EDITABLE_COST_FIELDS = ("data_product", "period_start", "amount", "category", "currency", "note", "external_id")


@transaction.atomic
def cost_update(*, cost_entry: CostEntry, **changes: object) -> CostEntry:
    """Correct a cost line with the same rules as recording one. Raises ValidationError per field."""
    unknown = set(changes) - set(_EDITABLE_COST_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    merged = {name: changes.get(name, getattr(cost_entry, name)) for name in _EDITABLE_COST_FIELDS}
    entry = CostInput(**merged)  # type: ignore[arg-type]
    errors = cost_errors(entry)
    if errors:
        raise ValidationError(errors)
    for name, value in merged.items():
        setattr(cost_entry, name, value)
    cost_entry.currency = entry.currency_or_default()
    cost_entry.external_id = entry.external_id or None
    cost_entry.full_clean()
    cost_entry.save()
    return cost_entry
