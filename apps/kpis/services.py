"""Writes with rules for KPIs: attributions and measurements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.models import BusinessGoal, DataProduct
from apps.core.errors import BulkValidationError, RowError
from apps.core.services import fields_apply, instance_save
from apps.core.sql import IdArray
from apps.kpis import revision_store
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


class KpiRef(NamedTuple):
    """What recording an outcome (and previewing an import) reads of its KPI, read without building a KPI.

    An import names up to 10,000 KPIs; building that many model instances (or frozen dataclasses)
    cost more than the query that reads them.
    """

    pk: int
    name: str
    unit: str
    cadence: str


@dataclass(frozen=True)
class MeasurementInput:
    """One KPI outcome to record (already parsed: a real KPI, or the reference of one, a date, a Decimal)."""

    kpi: KPI | KpiRef
    period_start: date
    value: Decimal
    note: str = ""


_VALUE_FIELD = Measurement._meta.get_field("value")
_DIGITS_BEFORE_POINT = _VALUE_FIELD.max_digits - _VALUE_FIELD.decimal_places
# A bulk request has few distinct (cadence, period) pairs: checking each once keeps 10,000 rows cheap.
_alignment_error = lru_cache(maxsize=4096)(alignment_error)


def measurement_errors(entry: MeasurementInput) -> dict[str, str]:
    """The problems with one outcome, by field name; empty when it can be recorded."""
    errors: dict[str, str] = {}
    message = _alignment_error(entry.kpi.cadence, entry.period_start)
    if message:
        errors["period_start"] = message
    value = entry.value
    if not isinstance(value, Decimal) or not value.is_finite():
        errors["value"] = "Enter a finite number."
    elif value.adjusted() >= _DIGITS_BEFORE_POINT:
        errors["value"] = f"Enter a number with at most {_DIGITS_BEFORE_POINT} digits before the decimal point."
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

    The same value and note as the period's current revision change nothing: that revision is returned.
    Raises ValidationError with a message per field (`period_start`, `value`).
    """
    entry = MeasurementInput(kpi=kpi, period_start=period_start, value=value, note=note)
    errors = measurement_errors(entry)
    if errors:
        raise ValidationError(errors)
    recorded = _measurements_append(entries=[entry], source=source, recorded_by=recorded_by)
    return Measurement.objects.get(pk=recorded.ids[0])


@dataclass(frozen=True)
class MeasurementsRecorded:
    """What a bulk write did: per row sent, in order, the id of its revision, and the counts.

    A row whose value and note equal its period's current revision stores nothing (`unchanged`);
    its id is that current revision's. Every other row is a new revision (`stored`), which is a
    `correction` when its period already had a current one (stored before, or an earlier row of
    the same request).
    """

    ids: list[int]
    stored: int
    corrections: int
    unchanged: int


class CheckedMeasurementInputs(tuple[MeasurementInput, ...]):
    """Outcomes every one of which passed `measurement_errors` (`apps.kpis.ingest` builds them):
    `measurements_record_bulk` records them without checking each row a second time. A tuple, so
    nothing unchecked can be added afterwards."""


def measurements_record_bulk(
    *, entries: Sequence[MeasurementInput], source: str, recorded_by: User | None = None
) -> MeasurementsRecorded:
    """Record many outcomes at once, all or nothing.

    Every row is checked first; if any is bad, BulkValidationError lists every bad row and
    nothing is stored. Otherwise, in one transaction and a fixed number of queries, the current
    revision of each (KPI, period) stops being current and the new value is appended. Two rows
    for the same (KPI, period) in one request become consecutive revisions, the later one current.
    A row equal (value and note) to its period's current revision at that point stores nothing.
    """
    if not isinstance(entries, CheckedMeasurementInputs):
        row_errors = [
            RowError(row=index, field=field, message=message)
            for index, entry in enumerate(entries, start=1)
            for field, message in measurement_errors(entry).items()
        ]
        if row_errors:
            raise BulkValidationError(row_errors)
    return _measurements_append(entries=entries, source=source, recorded_by=recorded_by)


@dataclass
class _PeriodState:
    """A period's revisions while a request is planned: the latest number and the current revision,
    either stored (`current_id`) or a new one of this request (`pending`, an index into the new ones)."""

    latest_revision: int
    current_id: int | None
    pending: int | None
    value: Decimal | None
    note: str | None


def _measurements_append(
    *, entries: Sequence[MeasurementInput], source: str, recorded_by: User | None
) -> MeasurementsRecorded:
    """Append checked outcomes as new revisions, in one transaction and a fixed number of statements.

    Five on PostgreSQL whatever the number of rows: lock the KPIs, look up the periods' current
    revisions, retire the superseded ones, draw the new ids, `COPY` the new rows (revision_store).
    """
    if not entries:
        return MeasurementsRecorded(ids=[], stored=0, corrections=0, unchanged=0)
    now = timezone.now()
    keys = list(dict.fromkeys((entry.kpi.pk, entry.period_start) for entry in entries))
    with transaction.atomic():
        # Serialise writers per KPI, in one statement in id order (so two imports cannot deadlock):
        # revisions are numbered from the latest one.
        list(
            KPI.objects.select_for_update()
            .filter(pk__any_of=IdArray.of(sorted({kpi_id for kpi_id, _ in keys})))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        states = {
            key: _PeriodState(
                stored.latest_revision, stored.current_id, None, stored.current_value, stored.current_note
            )
            for key, stored in revision_store.stored_periods(keys).items()
        }
        new_revisions: list[revision_store.NewRevision] = []
        # Per row: ("stored", id) for an unchanged row, ("new", index) for a new revision.
        row_targets: list[tuple[bool, int]] = []
        retired_ids: list[int] = []
        corrections = unchanged = 0
        for entry in entries:
            key = (entry.kpi.pk, entry.period_start)
            state = states.get(key)
            if state is None:
                state = states[key] = _PeriodState(0, None, None, None, None)
            has_current = state.current_id is not None or state.pending is not None
            if has_current and state.value == entry.value and state.note == entry.note:
                unchanged += 1
                if state.pending is not None:
                    row_targets.append((True, state.pending))
                else:
                    assert state.current_id is not None
                    row_targets.append((False, state.current_id))
                continue
            if has_current:
                corrections += 1
                if state.pending is not None:
                    new_revisions[state.pending] = replace(new_revisions[state.pending], is_current=False)
                elif state.current_id is not None:
                    retired_ids.append(state.current_id)
            state.latest_revision += 1
            state.current_id, state.pending = None, len(new_revisions)
            state.value, state.note = entry.value, entry.note
            new_revisions.append(
                revision_store.NewRevision(
                    kpi_id=entry.kpi.pk,
                    period_start=entry.period_start,
                    value=entry.value,
                    note=entry.note,
                    revision=state.latest_revision,
                    is_current=True,
                )
            )
            row_targets.append((True, state.pending))
        if retired_ids:
            # Before the insert: at most one current revision per period is a constraint.
            Measurement.objects.filter(pk__any_of=IdArray.of(retired_ids)).update(is_current=False)
        new_ids = revision_store.revisions_insert(
            new_revisions, source=source, recorded_by_id=recorded_by.pk if recorded_by else None, recorded_at=now
        )
    return MeasurementsRecorded(
        ids=[new_ids[target] if is_new else target for is_new, target in row_targets],
        stored=len(new_revisions),
        corrections=corrections,
        unchanged=unchanged,
    )


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
