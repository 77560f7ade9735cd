"""Cost lines from a JSON list or a CSV file, checked row by row (the API and the web upload).

`cost_inputs_from_json` and `cost_inputs_from_csv` return typed `CostInput`s ready for
`costs_record_bulk`, or raise:

- `BulkValidationError` (400) listing every bad row: unknown product, date not YYYY-MM-DD or
  out of range, period not the 1st of a month, amount not a finite number, negative or with
  more than 2 decimal places, a currency other than MESHVALUE_CURRENCY, an unknown category,
  unknown or missing columns, a file that is not UTF-8, too many rows;
- `ForbiddenRowsError` (403) when any row is for a product the user may not record costs of
  (a product owner: someone else's product), listing every problem of the request.

`costs_record_bulk` then appends revisions: a re-import of the same file changes nothing; a line
with the same (product, month, category, external_id) and another figure becomes its new current
revision, the old one is kept.

CSV columns: data_product, period_start, amount (required); currency, category, note,
external_id (optional; currency defaults to MESHVALUE_CURRENCY, category to `other`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser

from apps.accounts.models import User
from apps.catalog.models import DataProduct
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
from apps.costs.models import CostCategory
from apps.costs.services import CostInput, cost_errors

ZERO = Decimal(0)
STAND_IN_MONTH = date(2000, 1, 1)  # for a row whose period_start could not be read
COLUMNS = Columns(
    required=("data_product", "period_start", "amount"), optional=("currency", "category", "note", "external_id")
)
PARSERS = {
    "data_product": parse_id,
    "period_start": parse_date,
    "amount": parse_decimal,
    "currency": parse_text,  # checked against MESHVALUE_CURRENCY by cost_errors
    "category": lambda value: parse_text(value) or CostCategory.OTHER,
    "note": parse_text,
    "external_id": lambda value: parse_text(value, max_length=200) or None,
}


def cost_inputs_from_json(data: Any, *, user: User | AnonymousUser) -> list[CostInput]:
    """Cost lines from a JSON body (a list of {data_product, period_start, amount, ...})."""
    errors = RowErrors()
    return cost_inputs(json_rows(data, COLUMNS, errors), user=user, errors=errors)


def cost_inputs_from_csv(content: bytes, *, user: User | AnonymousUser) -> list[CostInput]:
    """Cost lines from the bytes of a CSV file with a header row."""
    errors = RowErrors()
    return cost_inputs(csv_rows(content, COLUMNS, errors), user=user, errors=errors)


def cost_inputs(
    rows: Sequence[Mapping[str, Any]], *, user: User | AnonymousUser, errors: RowErrors | None = None
) -> list[CostInput]:
    """Check rows already split into fields (rows numbered from 1); two queries whatever their number."""
    errors = errors if errors is not None else RowErrors()
    parsed = [
        read_fields(row, number, PARSERS, errors, required=COLUMNS.required) for number, row in enumerate(rows, 1)
    ]
    products, forbidden_rows = rows_reference(
        parsed,
        field_name="data_product",
        model=DataProduct,
        user=user,
        granted=access.RECORD_COSTS,
        errors=errors,
        label="Data product",
        forbidden_message="You may not record costs of data product {pk}: it is not yours.",
    )
    inputs: list[CostInput] = []
    for number, (values, product) in enumerate(zip(parsed, products, strict=True), start=1):
        # The service's rules run on every row, even when its period, product or amount could not be
        # read (they stand in, unchecked, and the row is refused anyway), so one answer reports every problem.
        entry = CostInput(
            data_product=product,
            period_start=values.get("period_start", STAND_IN_MONTH),
            amount=values.get("amount", ZERO),
            category=values.get("category", CostCategory.OTHER),
            currency=values.get("currency", ""),
            note=values.get("note", ""),
            external_id=values.get("external_id"),
        )
        for name, message in cost_errors(entry).items():
            if name in values:  # a field that could not be read is reported once, as unreadable
                errors.add(number, name, message)
        inputs.append(entry)
    errors.raise_if_any(forbidden_rows=forbidden_rows)
    return inputs
