"""Reading bulk rows (a JSON list or a CSV file) into plain values, with a message per row and field.

Shared by the API and the web app's CSV upload (through `apps.kpis.ingest`, `apps.costs.ingest`
and `apps.usage.ingest`). Rows are numbered from 1: the first element of a JSON list, or the
first line after a CSV file's header. Row 0 stands for the request or file as a whole (its
encoding, its columns, its size).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db.models import Exists, Model, OuterRef

from apps.core.api import access
from apps.core.api.exceptions import ForbiddenRowsError
from apps.core.errors import BulkValidationError, RowError
from apps.core.roles import AnyUser
from apps.core.sql import IdArray, plain_rows

# Dates outside this range are refused everywhere: they are typing errors, and date arithmetic
# near the ends of Python's calendar (year 1, year 9999) would overflow.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)
WHOLE = 0  # the row number of errors about the whole request or file
# A money amount typed or sent as text: ASCII digits, an optional sign and decimal part. Python's
# Decimal() also reads "1_000", full-width digits (U+FF10-U+FF19) and "1e3", which nobody means as money.
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)
PLAIN_DECIMAL_MESSAGE = (
    "Enter an amount with digits 0-9 only, such as 1200.50 or -3 (no spaces, separators or exponent)."
)


class FieldError(ValueError):
    """A value that cannot be read; its message is meant for the user."""


def printable(text: object) -> str:
    """`text` safe to echo back in an answer (lone surrogates from JSON cannot be encoded as UTF-8)."""
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


def date_range_error(day: date) -> str | None:
    if MIN_DATE <= day <= MAX_DATE:
        return None
    return f"Enter a date between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}."


def _whole_number(value: Any, *, low: int, high: int, message: str, range_message: str) -> int:
    """An integer in low..high from a JSON number or a string of digits; FieldError otherwise."""
    if isinstance(value, bool):
        raise FieldError(message)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        raise FieldError(message)
    if not low <= number <= high:
        raise FieldError(range_message)
    return number


def parse_id(value: Any) -> int:
    """An integer id from a JSON number or a string of digits."""
    message = "Enter the integer id of an existing record."
    return _whole_number(value, low=1, high=2**63 - 1, message=message, range_message=message)


def parse_date(value: Any) -> date:
    """A date from an ISO 8601 string (YYYY-MM-DD), within MIN_DATE..MAX_DATE."""
    if not isinstance(value, str):
        raise FieldError("Enter a date as YYYY-MM-DD.")
    text = value.strip()
    try:
        if len(text) != 10:
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise FieldError(f"{text!r} is not a date: enter one as YYYY-MM-DD.") from None
    message = date_range_error(day)
    if message:
        raise FieldError(message)
    return day


def parse_decimal(value: Any) -> Decimal:
    """A finite Decimal from a JSON number or a numeric string ("12.50", "-3", "1e3")."""
    if isinstance(value, bool) or value is None:
        raise FieldError("Enter a number.")
    if isinstance(value, (int, float)):
        text = repr(value) if isinstance(value, float) else str(value)
    elif isinstance(value, str):
        text = value.strip()
        # Decimal() reads digit group underscores and any script's digits: refuse them.
        if "_" in text or not text.isascii():
            raise FieldError(f"{printable(text)!r} is not a number: use digits 0-9 only.")
    else:
        raise FieldError("Enter a number.")
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        raise FieldError(f"{text!r} is not a number.") from None
    if not number.is_finite():
        raise FieldError("Enter a finite number.")
    return number


def is_plain_decimal(text: str) -> bool:
    """Whether `text` (surrounding whitespace aside) is a plain ASCII amount: -?digits(.digits)?"""
    return PLAIN_DECIMAL.fullmatch(text.strip()) is not None


def parse_count(value: Any) -> int:
    """A whole number >= 0 from a JSON integer or a string of digits."""
    return _whole_number(
        value,
        low=0,
        high=2**31 - 1,
        message="Enter a whole number of 0 or more.",
        range_message="Enter a whole number of 0 or more (at most 2147483647).",
    )


def parse_text(value: Any, *, max_length: int | None = None, required: bool = False) -> str:
    """A string (None and a missing value are empty); trimmed of surrounding whitespace."""
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value.strip()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        text = str(value)
    else:
        raise FieldError("Enter text.")
    if required and not text:
        raise FieldError("This field is required.")
    if "\x00" in text:
        raise FieldError("Text cannot contain NUL characters.")
    if printable(text) != text:
        raise FieldError("Text must be valid Unicode (no lone surrogates).")
    if max_length is not None and len(text) > max_length:
        raise FieldError(f"Enter at most {max_length} characters (this has {len(text)}).")
    return text


@dataclass
class RowErrors:
    """Collects the problems of a bulk request, row by row."""

    errors: list[RowError] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)

    def add(self, row: int, field_name: str, message: str) -> None:
        self.errors.append(RowError(row=row, field=field_name, message=message))
        self.bad_rows.add(row)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self, *, forbidden_rows: Sequence[int] = ()) -> None:
        """Raise ForbiddenRowsError (403) when any row was refused for permission, else
        BulkValidationError (400) when any row is bad; either lists every problem."""
        ordered = sorted(self.errors, key=lambda e: e.row)
        if forbidden_rows:
            raise ForbiddenRowsError(ordered, sorted(forbidden_rows))
        if ordered:
            raise BulkValidationError(ordered)


def rows_reference(
    parsed: Sequence[Mapping[str, Any]],
    *,
    field_name: str,
    model: type[Model],
    user: AnyUser,
    granted: access.Grant,
    errors: RowErrors,
    label: str,
    forbidden_message: str,
    only: Sequence[str] = (),
    build: Callable[..., Any] | None = None,
) -> tuple[list[Any], list[int]]:
    """The object each row names in `field_name`, and whether `user` may act on it, in one query.

    Unknown ids and ids `user` may not act on under `granted` are reported on their rows
    (`forbidden_message` is formatted with `pk`). Returns the object per row (None where the row
    names none, or an unknown one) and the numbers of the rows refused for permission. `only`
    loads just those fields (building 10,000 whole KPIs cost a seventh of a 10,000-row import);
    with `build` too, each object is `build(pk, *only)` from plain rows, no model instance at all
    (`only` then names the fields after the primary key).
    """
    wanted = sorted({values[field_name] for values in parsed if field_name in values})
    queryset = model._default_manager.filter(pk__any_of=IdArray.of(wanted))  # one array parameter, not an IN list
    if only:
        queryset = queryset.only(*only)
    scope = access.scope_of(user, granted)
    if scope is access.Scope.OWN:
        # The permission as a column of the same query (`access.restrict` per row), not a second
        # query with the same 10,000 ids: the same rule as `access.forbidden_ids`.
        own = access.restrict(model._default_manager.filter(pk=OuterRef("pk")), user, granted)
        queryset = queryset.annotate(_writable=Exists(own))
    if build is not None:
        writable = ("_writable",) if scope is access.Scope.OWN else ()
        fetched = plain_rows(queryset.values_list("pk", *only, *writable))
        objects = {row[0]: build(*row[: len(only) + 1]) for row in fetched}
        refused = {row[0] for row in fetched if writable and not row[-1]}
    else:
        objects = queryset.in_bulk()
        refused = {pk for pk, obj in objects.items() if not getattr(obj, "_writable", True)}
    if scope is access.Scope.ALL:
        forbidden: set[int] = set()
    elif scope is access.Scope.OWN:
        forbidden = refused
    else:
        forbidden = set(objects)
    referenced: list[Any] = []
    forbidden_rows: list[int] = []
    for number, values in enumerate(parsed, start=1):
        obj = objects.get(values[field_name]) if field_name in values else None
        if field_name in values and obj is None:
            errors.add(number, field_name, f"{label} {values[field_name]} does not exist.")
        elif obj is not None and obj.pk in forbidden:
            errors.add(number, field_name, forbidden_message.format(pk=obj.pk))
            forbidden_rows.append(number)
        referenced.append(obj)
    return referenced, forbidden_rows


def max_rows() -> int:
    return settings.MESHVALUE_MAX_IMPORT_ROWS


@dataclass(frozen=True)
class Columns:
    """The columns (JSON keys) a kind of row has: which are required, which optional."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return self.required + self.optional


def json_rows(data: Any, columns: Columns, errors: RowErrors) -> list[dict[str, Any]]:
    """Check a JSON body is a list of objects with known keys; returns one dict per row.

    Raises BulkValidationError when the body is not a list or is too long. Rows that are not
    objects or have unknown keys are added to `errors` (and stand as empty rows, so numbering holds).
    """
    if not isinstance(data, list):
        raise BulkValidationError([RowError(WHOLE, "rows", "Send a JSON list of rows (objects).")])
    if len(data) > max_rows():
        raise BulkValidationError(
            [RowError(WHOLE, "rows", f"Send at most {max_rows()} rows in one request (got {len(data)}).")]
        )
    rows: list[dict[str, Any]] = []
    for number, row in enumerate(data, start=1):
        if not isinstance(row, Mapping):
            errors.add(number, "row", f"Each row must be an object with {', '.join(columns.required)}.")
            rows.append({})
            continue
        unknown = sorted(printable(key) for key in row if key not in columns.all)
        if unknown:
            errors.add(number, "row", f"Unknown field(s) {', '.join(unknown)}; expected {', '.join(columns.all)}.")
        rows.append(dict(row))
    return rows


def csv_rows(content: bytes, columns: Columns, errors: RowErrors) -> list[dict[str, Any]]:
    """Read a CSV file (UTF-8, header row) into one dict per data row, keyed by column name.

    Raises BulkValidationError for a file that cannot be read as a whole (encoding, header,
    size: row 0). Rows with more values than the header has columns are added to `errors`.
    Blank lines are skipped; column names are matched ignoring case and surrounding spaces.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BulkValidationError(
            [RowError(WHOLE, "file", f"The file is not UTF-8 text (byte {error.start + 1} cannot be read).")]
        ) from None
    if "\x00" in text:
        raise BulkValidationError([RowError(WHOLE, "file", "The file contains NUL bytes: it is not a CSV text file.")])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next((line for line in reader if any(cell.strip() for cell in line)), None)
        if header is None:
            raise BulkValidationError(
                [RowError(WHOLE, "file", f"The file is empty: expected a header row with {', '.join(columns.all)}.")]
            )
        names = [cell.strip().lower() for cell in header]
        _check_header(names, columns)
        rows: list[dict[str, Any]] = []
        for line in reader:
            if not any(cell.strip() for cell in line):
                continue
            number = len(rows) + 1
            if number > max_rows():
                raise BulkValidationError(
                    [RowError(WHOLE, "file", f"The file has more than {max_rows()} rows; split it into smaller files.")]
                )
            if len(line) > len(names):
                errors.add(number, "row", f"This row has {len(line)} values but the header has {len(names)} columns.")
            rows.append({name: (line[index] if index < len(line) else "") for index, name in enumerate(names)})
    except csv.Error as error:
        raise BulkValidationError([RowError(WHOLE, "file", f"The file is not valid CSV: {error}.")]) from None
    return rows


def read_fields(
    row: Mapping[str, Any], number: int, parsers: Mapping[str, Any], errors: RowErrors, *, required: Sequence[str]
) -> dict[str, Any]:
    """Parse each field of `row` with its parser; problems go to `errors`, good values are returned.

    A required field that is missing or empty gets "This field is required."; an optional one
    that is missing is passed to its parser as None (which gives its default).
    """
    values: dict[str, Any] = {}
    for name, parse in parsers.items():
        raw = row.get(name)
        if name in required and (raw is None or (isinstance(raw, str) and not raw.strip())):
            errors.add(number, name, "This field is required.")
            continue
        try:
            values[name] = parse(raw)
        except FieldError as error:
            errors.add(number, name, str(error))
    return values


def _check_header(names: Sequence[str], columns: Columns) -> None:
    errors = RowErrors()
    missing = [name for name in columns.required if name not in names]
    if missing:
        errors.add(
            WHOLE,
            "columns",
            f"Missing column(s): {', '.join(missing)}. The header must name {', '.join(columns.required)}"
            + (f" (optional: {', '.join(columns.optional)})." if columns.optional else "."),
        )
    unknown = [name or "(unnamed)" for name in names if name not in columns.all]
    if unknown:
        errors.add(
            WHOLE, "columns", f"Unknown column(s): {', '.join(unknown)}. Known columns: {', '.join(columns.all)}."
        )
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        errors.add(WHOLE, "columns", f"Column(s) named more than once: {', '.join(duplicated)}.")
    errors.raise_if_any()
