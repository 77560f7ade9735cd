"""Usage records from a JSON list, checked row by row.

`usage_inputs_from_json` returns typed `UsageInput`s ready for `usage_record_bulk`, or raises
`BulkValidationError` (400) listing every bad row (unknown product, bad day, count not a whole
number >= 0, empty consumer, the same (product, day, consumer) twice in one request) or
`ForbiddenRowsError` (403) when any row is for a product the user may not record usage of.

Fields: data_product, consumer, day, count (all required).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import AnonymousUser

from apps.accounts.models import User
from apps.catalog.models import DataProduct
from apps.core.api import access
from apps.core.api.ingest import (
    Columns,
    RowErrors,
    json_rows,
    parse_count,
    parse_date,
    parse_id,
    parse_text,
    read_fields,
    rows_reference,
)
from apps.usage.models import UsageRecord
from apps.usage.services import UsageInput

COLUMNS = Columns(required=("data_product", "consumer", "day", "count"))
CONSUMER_LENGTH = UsageRecord._meta.get_field("consumer").max_length
PARSERS = {
    "data_product": parse_id,
    "consumer": lambda value: parse_text(value, max_length=CONSUMER_LENGTH, required=True),
    "day": parse_date,
    "count": parse_count,
}


def usage_inputs_from_json(data: Any, *, user: User | AnonymousUser) -> list[UsageInput]:
    """Usage records from a JSON body (a list of {data_product, consumer, day, count})."""
    errors = RowErrors()
    return usage_inputs(json_rows(data, COLUMNS, errors), user=user, errors=errors)


def usage_inputs(
    rows: Sequence[Mapping[str, Any]], *, user: User | AnonymousUser, errors: RowErrors | None = None
) -> list[UsageInput]:
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
        granted=access.RECORD_USAGE,
        errors=errors,
        label="Data product",
        forbidden_message="You may not record usage of data product {pk}: it is not yours.",
    )
    first_row_of: dict[tuple[int, Any, str], int] = {}
    inputs: list[UsageInput] = []
    for number, (values, product) in enumerate(zip(parsed, products, strict=True), start=1):
        if product is None or not {"consumer", "day", "count"} <= values.keys():
            continue
        key = (product.pk, values["day"], values["consumer"])
        if key in first_row_of:
            errors.add(
                number,
                "consumer",
                f"{values['consumer']} on {values['day']:%Y-%m-%d} is already in row {first_row_of[key]}.",
            )
            continue
        first_row_of[key] = number
        inputs.append(
            UsageInput(data_product=product, consumer=values["consumer"], day=values["day"], count=values["count"])
        )
    errors.raise_if_any(forbidden_rows=forbidden_rows)
    return inputs
