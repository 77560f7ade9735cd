"""KPI outcomes from a JSON list or a CSV file, checked row by row (the API and the web upload).

`measurement_inputs_from_json` and `measurement_inputs_from_csv` return typed
`MeasurementInput`s ready for `measurements_record_bulk`, or raise:

- `BulkValidationError` (400) listing every bad row: unknown KPI, date not YYYY-MM-DD or out
  of range, period not aligned to the KPI's cadence, value not a finite number or with more
  than 4 decimal places, unknown or missing columns, a file that is not UTF-8, too many rows;
- `ForbiddenRowsError` (403) when any row is for a KPI the user may not record outcomes for
  (a product owner: a KPI attributed to none of their products). It lists every problem of
  the request, the permission ones included. Nothing of the request is stored either way.

CSV columns: kpi, period_start, value (required), note (optional).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser

from apps.accounts.models import User
from apps.core.api import access
from apps.core.api.ingest import (
    Columns,
    RowErrors,
    csv_rows,
    json_rows,
    parse_date,
    parse_decimal,
    parse_id,
    parse_text,
    read_fields,
    rows_reference,
)
from apps.kpis.models import KPI, Measurement
from apps.kpis.services import CheckedMeasurementInputs, KpiRef, MeasurementInput, measurement_errors

COLUMNS = Columns(required=("kpi", "period_start", "value"), optional=("note",))
PARSERS = {"kpi": parse_id, "period_start": parse_date, "value": parse_decimal, "note": parse_text}
VALUE_PLACES = Measurement._meta.get_field("value").decimal_places
# What the rules and the web preview read of a row's KPI (after its id: `KpiRef`); the rest stays unloaded.
KPI_FIELDS_READ = ("name", "unit", "cadence")
ZERO = Decimal(0)  # stands for a value that could not be read, so the other rules still run


def measurement_inputs_from_json(data: Any, *, user: User | AnonymousUser) -> CheckedMeasurementInputs:
    """Outcomes from a JSON body (a list of {kpi, period_start, value, note})."""
    errors = RowErrors()
    return measurement_inputs(json_rows(data, COLUMNS, errors), user=user, errors=errors)


def measurement_inputs_from_csv(content: bytes, *, user: User | AnonymousUser) -> CheckedMeasurementInputs:
    """Outcomes from the bytes of a CSV file with a header row."""
    errors = RowErrors()
    return measurement_inputs(csv_rows(content, COLUMNS, errors), user=user, errors=errors)


def measurement_inputs(
    rows: Sequence[Mapping[str, Any]], *, user: User | AnonymousUser, errors: RowErrors | None = None
) -> CheckedMeasurementInputs:
    """Check rows already split into fields (rows numbered from 1); two queries whatever their number."""
    errors = errors if errors is not None else RowErrors()
    parsed: list[dict[str, Any]] = []
    for number, row in enumerate(rows, start=1):
        values = read_fields(row, number, PARSERS, errors, required=COLUMNS.required)
        value = values.get("value")
        if isinstance(value, Decimal) and value.normalize().as_tuple().exponent < -VALUE_PLACES:  # type: ignore[operator]
            errors.add(number, "value", f"Enter a number with at most {VALUE_PLACES} decimal places.")
            del values["value"]
        parsed.append(values)

    kpis, forbidden_rows = rows_reference(
        parsed,
        field_name="kpi",
        model=KPI,
        user=user,
        granted=access.RECORD_OUTCOMES,
        errors=errors,
        label="KPI",
        forbidden_message="You may not record outcomes of KPI {pk}: it is attributed to no product of yours.",
        only=KPI_FIELDS_READ,
        build=KpiRef,
    )
    inputs: list[MeasurementInput] = []
    for number, (values, kpi) in enumerate(zip(parsed, kpis, strict=True), start=1):
        if kpi is None or "period_start" not in values:
            continue
        # The service's rules (period aligned to the cadence, digits) run on every row whose KPI and
        # period could be read, even when its value could not, so one answer reports every problem.
        entry = MeasurementInput(
            kpi=kpi, period_start=values["period_start"], value=values.get("value", ZERO), note=values.get("note", "")
        )
        for name, message in measurement_errors(entry).items():
            if name in values:  # a value that could not be read is reported once, as unreadable
                errors.add(number, name, message)
        inputs.append(entry)
    errors.raise_if_any(forbidden_rows=forbidden_rows)
    return CheckedMeasurementInputs(inputs)
