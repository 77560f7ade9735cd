"""SQL helpers for set-based writes and reads of many ids at once.

`field__any_of=ids` filters on a list of values. On PostgreSQL it is `field = ANY(%s)` with the list
sent as ONE array parameter: a 10,000-item `IN (%s, %s, ...)` list costs psycopg more to prepare
than the query costs the server (issue 16 measured a quarter of a bulk import's time there). On
other databases (SQLite, the demo) it is a plain `IN` list. An `IdArray` (ids written as the array
literal once) is sent as is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations import RunPython
from django.db.models import Field, Lookup, QuerySet


def int_array(values: Iterable[int]) -> str:
    """A PostgreSQL array literal of integers (`{1,2,3}`), to be cast with `::bigint[]`.

    psycopg adapts a Python list to an array in pure Python, element by element (80 ms for 10,000
    ids, client-side binding as Django uses it); joining the digits is a fifth of that.
    """
    return "{" + ",".join(str(int(value)) for value in values) + "}"


def date_array(values: Iterable[date]) -> str:
    """A PostgreSQL array literal of dates (`{2026-01-01,...}`), to be cast with `::date[]`."""
    return "{" + ",".join(value.isoformat() for value in values) + "}"


@dataclass(frozen=True)
class IdArray:
    """Ids for `field__any_of`, written once as a PostgreSQL array literal (`int_array`) and sent as is.

    Django walks a list value element by element before any lookup sees it, and so did the
    lookup: 30-50 ms per query at 10,000 ids. An IdArray is not a list, so neither walks it; a
    cached one is read again and again. Elsewhere (SQLite) its ids become an `IN` list.
    """

    ids: tuple[int, ...]
    literal: str

    @classmethod
    def of(cls, ids: Iterable[int]) -> IdArray:
        values = tuple(int(value) for value in ids)
        return cls(values, int_array(values))

    @property
    def size(self) -> int:
        return len(self.ids)


@Field.register_lookup
class AnyOf(Lookup):
    """`field__any_of=[...]`: the field equals one of the values (an array parameter on PostgreSQL)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        if isinstance(self.rhs, IdArray):
            return self.rhs
        prepare = self.lhs.output_field.get_prep_value
        return [value if type(value) is int else prepare(value) for value in self.rhs]  # ids need no preparing

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if isinstance(self.rhs, IdArray):
            if connection.vendor == "postgresql":
                return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, self.rhs.literal]
            if not self.rhs.ids:
                return "1 = 0", list(lhs_params)
            return f"{lhs} IN ({', '.join(['%s'] * self.rhs.size)})", [*lhs_params, *self.rhs.ids]
        prepare = self.lhs.output_field.get_db_prep_value
        values = [value if type(value) is int else prepare(value, connection, prepared=True) for value in self.rhs]
        if connection.vendor == "postgresql":
            if all(type(value) is int for value in values):
                return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, int_array(values)]
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        if not values:
            return "1 = 0", list(lhs_params)  # nothing matches an empty list (SQLite refuses `IN ()`)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(text: str) -> str:
    """A text value in COPY's text format: backslash, tab, newline and carriage return escaped.

    The bulk writes send COPY's text format directly, as psql does: psycopg's `write_row` dumps
    each value in Python, a tenth of a 10,000-row import.
    """
    return text.translate(_COPY_ESCAPES)


def copy_optional(value: object | None) -> str:
    """A number (or None, COPY's NULL) in COPY's text format."""
    return "\\N" if value is None else str(value)


def identity_ids(table: str, count: int) -> list[int]:
    """`count` new ids drawn from the identity sequence of `table`'s `id`, ascending (PostgreSQL).

    As a plain INSERT would draw them, so that a COPY can write them and the caller knows them
    without reading the rows back. The sequence is looked up once: `pg_get_serial_sequence` per
    row costs ten times the nextval.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH sequence AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS name)"
            " SELECT array_agg(nextval(sequence.name)) FROM sequence, generate_series(1, %s)",
            [table, count],
        )
        return sorted(cursor.fetchone()[0] or ())


def plain_rows(queryset: QuerySet) -> list[tuple]:
    """The rows of a `values_list` queryset as plain tuples.

    On PostgreSQL psycopg already returns Decimal, date and int, so the rows are fetched in one
    go without Django's per-row converters (a fifth of the evaluation's time at 10,000 products, and
    most of the Python of readiness). Other databases need the converters (SQLite returns decimals as text or float).
    """
    if connection.vendor != "postgresql":
        return list(queryset)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def postgresql_statements(statements: list[str], reverse: list[str]) -> RunPython:
    """A migration operation that runs `statements` (and, reversed, `reverse`) on PostgreSQL only.

    For triggers and functions in plpgsql: elsewhere (SQLite, the demo) what they maintain is
    computed on read instead, and the statements would not parse.
    """

    def run(sql: list[str]) -> Callable[[object, BaseDatabaseSchemaEditor], None]:
        def execute(apps: object, schema_editor: BaseDatabaseSchemaEditor) -> None:
            if schema_editor.connection.vendor == "postgresql":
                for statement in sql:
                    schema_editor.execute(statement)

        return execute

    return RunPython(run(statements), run(reverse))
