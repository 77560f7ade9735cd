"""Writes with rules for KPIs: attributions and measurements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.models import BusinessGoal, DataProduct
from apps.core.errors import BulkValidationError, RowError
from apps.core.services import fields_apply, instance_save
from apps.kpis.models import KPI, Attribution, CadenceChoices, Direction, Measurement, MeasurementSource
from meshvalue.periods import alignment_error

MAX_WEIGHT_TOTAL = Decimal("1")


def attributions_set(*, kpi: KPI, attributions: Sequence[tuple[DataProduct, Decimal]]) -> list[Attribution]:
    """Replace the attributions of `kpi` with `attributions` (product, weight).

    Each weight must be in (0, 1] and the weights of one KPI sum to at most 1. The KPI row
    is locked so that two concurrent edits cannot together exceed the total.
    """
    errors: dict[str, list[str]] = {}
    seen: set[int] = set()
    total = Decimal("0")
    for product, weight in attributions:
        if product.pk in seen:
            errors.setdefault("attributions", []).append(f"{product.slug} is listed more than once.")
        seen.add(product.pk)
        if not isinstance(weight, Decimal) or not weight.is_finite():
            errors.setdefault("attributions", []).append(f"The weight for {product.slug} is not a number.")
            continue
        if weight <= 0 or weight > 1:
            errors.setdefault("attributions", []).append(
                f"The weight for {product.slug} is {weight}; a weight must be greater than 0 and at most 1."
            )
        total += weight
    if not errors and total > MAX_WEIGHT_TOTAL:
        errors["attributions"] = [f"The weights of one KPI sum to at most 1; these sum to {total.normalize()}."]
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        KPI.objects.select_for_update().filter(pk=kpi.pk).first()
        Attribution.objects.filter(kpi=kpi).exclude(data_product_id__in=seen).delete()
        existing = {a.data_product_id: a for a in Attribution.objects.filter(kpi=kpi)}
        result: list[Attribution] = []
        for product, weight in attributions:
            attribution = existing.get(product.pk)
            if attribution is None:
                attribution = Attribution(kpi=kpi, data_product=product, weight=weight)
                attribution.full_clean(validate_unique=False, validate_constraints=False)
                attribution.save()
            elif attribution.weight != weight:
                attribution.weight = weight
                attribution.save(update_fields=["weight"])
            result.append(attribution)
    return result


@transaction.atomic
def attribution_set_credit_terms(
    *, kpi: KPI, data_product: DataProduct, starts_on: date | None, baseline: Decimal | None
) -> Attribution:
    """Set from when and from which level `data_product` is credited for `kpi` (None: the defaults,
    the product's launch date and the KPI's baseline). The attribution must exist (`attributions_set`)."""
    attribution = Attribution.objects.select_for_update().get(kpi=kpi, data_product=data_product)
    attribution.starts_on = starts_on
    attribution.baseline = baseline
    attribution.full_clean(validate_unique=False, validate_constraints=False)
    attribution.save(update_fields=["starts_on", "baseline"])
    return attribution


@dataclass(frozen=True)
class MeasurementInput:
    """One KPI outcome to record (already parsed: a real KPI, a date, a Decimal)."""

    kpi: KPI
    period_start: date
    value: Decimal
    note: str = ""


def measurement_errors(entry: MeasurementInput) -> dict[str, str]:
    """The problems with one outcome, by field name; empty when it can be recorded."""
    errors: dict[str, str] = {}
    message = alignment_error(entry.kpi.cadence, entry.period_start)
    if message:
        errors["period_start"] = message
    value = entry.value
    if not isinstance(value, Decimal) or not value.is_finite():
        errors["value"] = "Enter a finite number."
    else:
        field = Measurement._meta.get_field("value")
        digits_before_point = field.max_digits - field.decimal_places
        if value.adjusted() >= digits_before_point:
            errors["value"] = f"Enter a number with at most {digits_before_point} digits before the decimal point."
    return errors


def measurement_record(
    *,
    kpi: KPI,
    period_start: date,
    value: Decimal,
    note: str = "",
    source: str = MeasurementSource.FORM,
    recorded_by: User | None = None,
) -> Measurement:
    """Record one KPI outcome; a second value for the same period becomes the new current revision.

    Raises ValidationError with a message per field (`period_start`, `value`).
    """
    entry = MeasurementInput(kpi=kpi, period_start=period_start, value=value, note=note)
    errors = measurement_errors(entry)
    if errors:
        raise ValidationError(errors)
    return _measurements_append(entries=[entry], source=source, recorded_by=recorded_by)[0]


def measurements_record_bulk(
    *, entries: Sequence[MeasurementInput], source: str, recorded_by: User | None = None
) -> list[Measurement]:
    """Record many outcomes at once, all or nothing.

    Every row is checked first; if any is bad, BulkValidationError lists every bad row and
    nothing is stored. Otherwise, in one transaction and a fixed number of queries, the current
    revision of each (KPI, period) stops being current and the new value is appended. Two rows
    for the same (KPI, period) in one request become consecutive revisions, the later one current.
    """
    row_errors = [
        RowError(row=index, field=field, message=message)
        for index, entry in enumerate(entries, start=1)
        for field, message in measurement_errors(entry).items()
    ]
    if row_errors:
        raise BulkValidationError(row_errors)
    return _measurements_append(entries=entries, source=source, recorded_by=recorded_by)


def _measurements_append(
    *, entries: Sequence[MeasurementInput], source: str, recorded_by: User | None
) -> list[Measurement]:
    """Append checked outcomes as new revisions, in one transaction and a fixed number of queries."""
    if not entries:
        return []
    now = timezone.now()
    kpi_ids = sorted({entry.kpi.pk for entry in entries})
    with transaction.atomic():
        # Serialise writers per KPI: revisions are numbered from the latest one.
        list(KPI.objects.select_for_update().filter(pk__in=kpi_ids).order_by("pk").values_list("pk", flat=True))
        periods = {(entry.kpi.pk, entry.period_start) for entry in entries}
        latest_revision: dict[tuple[int, date], int] = {}
        current_ids: list[int] = []
        for measurement_id, kpi_id, start, revision, is_current in Measurement.objects.filter(
            kpi_id__in=kpi_ids, period_start__in={start for _, start in periods}
        ).values_list("id", "kpi_id", "period_start", "revision", "is_current"):
            key = (kpi_id, start)
            if key not in periods:
                continue
            latest_revision[key] = max(latest_revision.get(key, 0), revision)
            if is_current:
                current_ids.append(measurement_id)
        if current_ids:
            Measurement.objects.filter(pk__in=current_ids).update(is_current=False)

        last_index: dict[tuple[int, date], int] = {}
        for index, entry in enumerate(entries):
            last_index[(entry.kpi.pk, entry.period_start)] = index
        created: list[Measurement] = []
        for index, entry in enumerate(entries):
            key = (entry.kpi.pk, entry.period_start)
            latest_revision[key] = latest_revision.get(key, 0) + 1
            created.append(
                Measurement(
                    kpi=entry.kpi,
                    period_start=entry.period_start,
                    value=entry.value,
                    note=entry.note,
                    source=source,
                    revision=latest_revision[key],
                    is_current=last_index[key] == index,
                    recorded_by=recorded_by,
                    recorded_at=now,
                )
            )
        return Measurement.objects.bulk_create(created)


# --- KPIs themselves (used by the API) ---------------------------------------------------------

_KPI_FIELDS = frozenset(
    {
        "goal",
        "name",
        "description",
        "unit",
        "direction",
        "cadence",
        "baseline",
        "target",
        "target_date",
        "value_per_unit",
        "source",
        "source_query",
    }
)


@transaction.atomic
def kpi_create(
    *,
    goal: BusinessGoal,
    name: str,
    unit: str,
    baseline: Decimal,
    target: Decimal,
    value_per_unit: Decimal,
    direction: str = Direction.INCREASE,
    cadence: str = CadenceChoices.MONTHLY,
    description: str = "",
    target_date: date | None = None,
    attributions: Sequence[tuple[DataProduct, Decimal]] = (),
    source: Any = None,
    source_query: str = "",
) -> KPI:
    """Create a KPI of a goal and attribute it to products (`attributions_set` rules apply).

    `source` (an `apps.sources.models.DataSource`) and `source_query` come together or not at all.
    """
    kpi = KPI(
        goal=goal,
        name=name,
        description=description,
        unit=unit,
        direction=direction,
        cadence=cadence,
        baseline=baseline,
        target=target,
        target_date=target_date,
        value_per_unit=value_per_unit,
        source=source,
        source_query=source_query,
    )
    instance_save(kpi)
    if attributions:
        attributions_set(kpi=kpi, attributions=attributions)
    return kpi


@transaction.atomic
def kpi_update(*, kpi: KPI, attributions: Sequence[tuple[DataProduct, Decimal]] | None = None, **fields: Any) -> KPI:
    """Change a KPI's fields, and replace its attributions when `attributions` is given.

    The cadence cannot change once outcomes are recorded: their periods are aligned to it.
    """
    kpi = KPI.objects.select_for_update().get(pk=kpi.pk)
    if "cadence" in fields and fields["cadence"] != kpi.cadence and kpi.measurements.exists():
        raise ValidationError(
            {"cadence": "Outcomes are recorded for this KPI with its current cadence; it cannot change."}
        )
    instance_save(kpi, fields_apply(kpi, fields, _KPI_FIELDS))
    if attributions is not None:
        attributions_set(kpi=kpi, attributions=attributions)
    return kpi


@transaction.atomic
def kpi_delete(*, kpi: KPI) -> None:
    """Delete a KPI with no recorded outcome (outcomes are history: ProtectedError otherwise)."""
    kpi.delete()


@transaction.atomic
def attribution_link(
    *,
    kpi: KPI,
    data_product: DataProduct,
    weight: Decimal,
    starts_on: date | None = None,
    baseline: Decimal | None = None,
) -> Attribution:
    """Credit `data_product` with `weight` of `kpi` from `starts_on`, above `baseline` (DESIGN.md v2).

    The product's other KPIs and the KPI's other products are kept; linking it again changes the
    weight, start and baseline. The weight rules are `attributions_set`'s (the KPI row is locked there).
    """
    others = [
        (attribution.data_product, attribution.weight)
        for attribution in Attribution.objects.filter(kpi=kpi)
        .exclude(data_product=data_product)
        .select_related("data_product")
    ]
    linked = attributions_set(kpi=kpi, attributions=[*others, (data_product, weight)])[-1]
    linked.starts_on, linked.baseline = starts_on, baseline
    linked.full_clean(validate_unique=False, validate_constraints=False)
    linked.save(update_fields=["starts_on", "baseline"])
    return linked
