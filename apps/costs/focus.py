"""Read a FOCUS billing export (1.0 to 1.3; csv, csv.gz or Parquet) with DuckDB, into sums by allocation key.

DuckDB streams the file and aggregates it in SQL (`GROUP BY` the allocation key: month, currency,
billing account, sub account, service, resource, tags, category), so memory follows the number
of distinct keys, not the number of lines. Every cell is read as text and cast in SQL
(`all_varchar`), so a malformed number or date is an error reported by line, never a silent NULL.

- month: `ChargePeriodStart` in UTC (`2024-09-01T00:00:00Z` and `2024-09-01 00:00:00` both occur);
- category: `ChargeCategory` Tax -> other, Credit -> credit, anything else -> infrastructure (any casing);
- tags: the `Tags` JSON object, keys trimmed and lower-cased; FOCUS 1.3's `AllocatedTags` override it;
- `x_` (provider) columns and any other column are accepted and ignored.

Nothing here touches Django's database: the importer (apps.costs.imports) stores the sums.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

REQUIRED_COLUMNS = (
    "BilledCost",
    "EffectiveCost",
    "ChargePeriodStart",
    "BillingCurrency",
    "BillingAccountId",
    "ChargeCategory",
)
OPTIONAL_COLUMNS = ("SubAccountId", "ServiceName", "ResourceId", "Tags", "AllocatedTags")
MAX_REPORTED_ERRORS = 100
# DuckDB's own budget: it spills to disk beyond it, so a huge file never takes the machine's memory.
MEMORY_LIMIT = "256MB"
ZERO = Decimal(0)


class FocusError(Exception):
    """The file cannot be imported; `errors` says why (line by line where it can)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors[:5]))
        self.errors = errors


@dataclass(frozen=True)
class AggregateLine:
    """The sum of the lines sharing one allocation key, in the bill's own currency."""

    month: date
    currency: str
    billing_account: str
    sub_account: str
    service_name: str
    resource_id: str
    tags: tuple[tuple[str, str], ...]  # sorted (key, value); keys trimmed and lower-cased
    category: str
    effective: Decimal
    billed: Decimal
    lines: int
    zero_effective_lines: int = 0

    def tag(self, key: str) -> str | None:
        for name, value in self.tags:
            if name == key:
                return value
        return None


@dataclass
class FocusRead:
    """What a file held: its sums by allocation key, the line count and the warnings."""

    aggregates: list[AggregateLine]
    rows_read: int = 0
    zero_effective_lines: int = 0
    total_effective: Decimal = ZERO
    total_billed: Decimal = ZERO
    currencies: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def file_format(path: str | Path) -> str:
    """`parquet` or `csv` (csv.gz included), from the file name."""
    name = str(path).lower()
    return "parquet" if name.endswith((".parquet", ".parq", ".pq")) else "csv"


def _connect() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(":memory:", config={"memory_limit": MEMORY_LIMIT, "threads": 2})
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute("SET preserve_insertion_order = false")
    connection.execute("SET enable_progress_bar = true")  # tracked for query_progress(), never printed
    connection.execute("SET enable_progress_bar_print = false")
    return connection


def _source(path: str | Path) -> str:
    quoted = str(path).replace("'", "''")
    if file_format(path) == "parquet":
        return f"read_parquet('{quoted}')"
    # Every cell as text: the casts below turn a malformed cell into an error we can report by line.
    return f"read_csv('{quoted}', all_varchar = true, header = true, nullstr = ['NULL', ''])"


def _columns(connection: duckdb.DuckDBPyConnection, source: str) -> dict[str, tuple[str, str]]:
    """The file's columns by lower-cased name: (name as written, DuckDB type)."""
    try:
        described = connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()  # noqa: S608 (quoted path and identifiers)
    except duckdb.Error as error:
        raise FocusError([f"The file cannot be read as CSV or Parquet: {error}"]) from error
    return {str(row[0]).strip().lower(): (str(row[0]), str(row[1])) for row in described}


def _text(columns: dict[str, tuple[str, str]], name: str) -> str:
    """A SQL expression for column `name` as text (NULL when the file has no such column)."""
    found = columns.get(name.lower())
    if found is None:
        return "NULL::VARCHAR"
    written, kind = found
    ident = '"' + written.replace('"', '""') + '"'
    if kind.startswith(("MAP", "STRUCT")):  # Parquet tags may be a map: make them JSON like the CSV's
        return f"to_json({ident})::VARCHAR"
    return f"CAST({ident} AS VARCHAR)"


def _typed_sql(columns: dict[str, tuple[str, str]], source: str) -> str:
    col = {name: _text(columns, name) for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)}
    return f"""
        SELECT
            {col["BilledCost"]} AS billed_text,
            {col["EffectiveCost"]} AS effective_text,
            {col["ChargePeriodStart"]} AS start_text,
            TRY_CAST(trim({col["BilledCost"]}) AS DECIMAL(38, 12)) AS billed,
            TRY_CAST(trim({col["EffectiveCost"]}) AS DECIMAL(38, 12)) AS effective,
            TRY_CAST(trim({col["ChargePeriodStart"]}) AS TIMESTAMPTZ) AS charge_start,
            upper(trim({col["BillingCurrency"]})) AS currency,
            trim({col["BillingAccountId"]}) AS billing_account,
            coalesce(trim({col["SubAccountId"]}), '') AS sub_account,
            coalesce(trim({col["ServiceName"]}), '') AS service_name,
            coalesce(trim({col["ResourceId"]}), '') AS resource_id,
            coalesce({col["Tags"]}, '') AS tags,
            coalesce({col["AllocatedTags"]}, '') AS allocated_tags,
            CASE lower(trim({col["ChargeCategory"]}))
                WHEN 'tax' THEN 'other' WHEN 'credit' THEN 'credit' ELSE 'infrastructure' END AS category
        FROM {source}
    """  # noqa: S608 (quoted path and identifiers)


def _bad_condition() -> str:
    return (
        "billed IS NULL OR effective IS NULL OR charge_start IS NULL OR currency IS NULL OR length(currency) <> 3"
        " OR billing_account IS NULL OR billing_account = ''"
    )


def aggregate_sql(path: str | Path, columns: dict[str, tuple[str, str]] | None = None) -> str:
    """The one streaming query of an import: sums by allocation key, and a flag for unreadable lines."""
    source = _source(path)
    if columns is None:
        with _connect() as connection:
            columns = _columns(connection, source)
    return f"""
        WITH typed AS ({_typed_sql(columns, source)})
        SELECT
            ({_bad_condition()}) AS bad,
            CAST(date_trunc('month', charge_start) AS DATE) AS month,
            currency, billing_account, sub_account, service_name, resource_id, tags, allocated_tags, category,
            sum(effective) AS effective,
            sum(billed) AS billed,
            count(*) AS lines,
            count(*) FILTER (WHERE effective = 0 AND billed <> 0) AS zero_effective_lines
        FROM typed
        GROUP BY ALL
    """  # noqa: S608 (quoted path and identifiers)


def _line_errors(
    connection: duckdb.DuckDBPyConnection, path: str | Path, columns: dict[str, tuple[str, str]]
) -> list[str]:
    """Every unreadable line, by its line number in the file (the header is line 1)."""
    connection.execute("SET threads = 1")  # file order, so that row numbers are line numbers
    connection.execute("SET preserve_insertion_order = true")
    offset = 2 if file_format(path) == "csv" else 1
    rows = connection.execute(
        f"""
        WITH typed AS ({_typed_sql(columns, _source(path))}),
        numbered AS (SELECT row_number() OVER () AS number, * FROM typed)
        SELECT number, billed_text, effective_text, start_text, currency, billing_account,
               billed IS NULL, effective IS NULL, charge_start IS NULL
        FROM numbered WHERE {_bad_condition()}
        ORDER BY number
        LIMIT {MAX_REPORTED_ERRORS + 1}
        """  # noqa: S608 (quoted path and identifiers)
    ).fetchall()
    errors = []
    for number, billed, effective, start, currency, account, bad_billed, bad_effective, bad_start in rows:
        line = number + offset - 1
        problems = []
        if bad_billed:
            problems.append(f"BilledCost {billed!r} is not a number")
        if bad_effective:
            problems.append(f"EffectiveCost {effective!r} is not a number")
        if bad_start:
            problems.append(f"ChargePeriodStart {start!r} is not a timestamp")
        if currency is None or len(currency) != 3:
            problems.append(f"BillingCurrency {currency!r} is not a currency code")
        if not account:
            problems.append("BillingAccountId is empty")
        errors.append(f"Line {line}: " + "; ".join(problems) + ".")
    if len(errors) > MAX_REPORTED_ERRORS:
        errors = [*errors[:MAX_REPORTED_ERRORS], f"... and more lines (only the first {MAX_REPORTED_ERRORS} shown)."]
    return errors


def normalized_tags(text: str, warnings: list[str] | None = None) -> dict[str, str]:
    """A FOCUS `Tags` JSON object with keys trimmed and lower-cased (values kept as written)."""
    if not text or not text.strip():
        return {}
    try:
        parsed = json.loads(text)
    except ValueError:
        if warnings is not None:
            warnings.append(f"Tags {text[:80]!r} is not JSON; the lines were read without tags.")
        return {}
    if not isinstance(parsed, dict):
        return {}
    tags: dict[str, str] = {}
    for key, value in parsed.items():
        name = str(key).strip().lower()
        text_value = "" if value is None else (value if isinstance(value, str) else json.dumps(value))
        if name in tags and tags[name] != text_value and warnings is not None:
            warnings.append(f"Tag key {name!r} appears twice with different values ({tags[name]!r}, {text_value!r}).")
        tags.setdefault(name, text_value)
    return tags


def _run_with_progress(
    connection: duckdb.DuckDBPyConnection, sql: str, progress: Callable[[int], None] | None
) -> list[tuple[Any, ...]]:
    """Run `sql`, reporting DuckDB's own progress (percent) every half second while it runs."""
    if progress is None:
        return connection.execute(sql).fetchall()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["rows"] = connection.execute(sql).fetchall()
        except BaseException as error:  # handed back to the caller's thread
            outcome["error"] = error

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    last = -1
    while worker.is_alive():
        worker.join(0.5)
        try:
            percent = int(connection.query_progress())
        except duckdb.Error:
            percent = -1
        if 0 <= percent < 100 and percent != last:
            progress(percent)
            last = percent
    if "error" in outcome:
        raise outcome["error"]
    return outcome["rows"]


def read_focus(path: str | Path, *, progress: Callable[[int], None] | None = None) -> FocusRead:
    """Read the FOCUS file at `path` into sums by allocation key. Raises FocusError with every problem."""
    source = _source(path)
    with _connect() as connection:
        columns = _columns(connection, source)
        missing = [name for name in REQUIRED_COLUMNS if name.lower() not in columns]
        if missing:
            raise FocusError(
                [
                    f"This is not a FOCUS export: the column{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(missing)} {'are' if len(missing) > 1 else 'is'} missing "
                    f"(a FOCUS 1.0-1.3 file has {', '.join(REQUIRED_COLUMNS)}, ...)."
                ]
            )
        try:
            rows = _run_with_progress(connection, aggregate_sql(path, columns), progress)
        except duckdb.Error as error:
            raise FocusError([f"The file cannot be read: {error}"]) from error
        if any(row[0] for row in rows):
            raise FocusError(_line_errors(connection, path, columns))

    warnings: list[str] = []
    tag_cache: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
    sums: dict[tuple[Any, ...], list[Any]] = {}
    for (
        _bad,
        month,
        currency,
        account,
        sub_account,
        service,
        resource,
        tags_text,
        allocated_text,
        category,
        effective,
        billed,
        lines,
        zero_lines,
    ) in rows:
        tag_key = (tags_text, allocated_text)
        if tag_key not in tag_cache:
            tags = normalized_tags(tags_text, warnings)
            tags.update(normalized_tags(allocated_text, warnings))  # 1.3: what the provider allocated wins
            tag_cache[tag_key] = tuple(sorted(tags.items()))
        key = (month, currency, account, sub_account, service, resource, tag_cache[tag_key], category)
        total = sums.setdefault(key, [ZERO, ZERO, 0, 0])
        total[0] += effective
        total[1] += billed
        total[2] += lines
        total[3] += zero_lines

    aggregates = [
        AggregateLine(
            month=key[0],
            currency=key[1],
            billing_account=key[2],
            sub_account=key[3],
            service_name=key[4],
            resource_id=key[5],
            tags=key[6],
            category=key[7],
            effective=effective,
            billed=billed,
            lines=lines,
            zero_effective_lines=zero_lines,
        )
        for key, (effective, billed, lines, zero_lines) in sums.items()
    ]
    read = FocusRead(aggregates=aggregates, warnings=_unique(warnings))
    read.rows_read = sum(a.lines for a in aggregates)
    read.zero_effective_lines = sum(a.zero_effective_lines for a in aggregates)
    read.total_effective = sum((a.effective for a in aggregates), ZERO)
    read.total_billed = sum((a.billed for a in aggregates), ZERO)
    read.currencies = sorted({a.currency for a in aggregates})
    if read.zero_effective_lines:
        read.warnings.append(
            f"{read.zero_effective_lines} lines have an EffectiveCost of 0 but a BilledCost that is not "
            "(commitment purchases and covered usage): they are allocated at 0 and kept in the billed total."
        )
    if read.rows_read == 0:
        raise FocusError(["The file has no billing lines."])
    return read


def _unique(messages: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for message in messages:
        seen.setdefault(message, None)
    return list(seen)


def timed_floor(path: str | Path) -> tuple[float, int]:
    """DuckDB alone on the file (read_csv + the same GROUP BY): seconds and groups; the bench's floor."""
    started = time.perf_counter()
    with _connect() as connection:
        rows = connection.execute(aggregate_sql(path)).fetchall()
    return time.perf_counter() - started, len(rows)
