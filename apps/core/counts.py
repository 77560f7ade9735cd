"""Row counts kept by the database for the lists of big tables (PostgreSQL).

A paginated list answers its `count`, and PostgreSQL counts by reading every row: 111 ms for the
2,000,000 measurements of the bench portfolio, nine tenths of the list's time, and 36 ms for its
250,000 current cost entries. So for those tables statement-level triggers keep a count per key (a
KPI, a product) in a small table, in the writer's own transaction (COPY, bulk writes and the admin
included). The counts change by addition only, so concurrent writers stay exact: each adds its
own rows under the row lock of the keys it touches, taken in key order. A list whose rows are the
whole registered set (an executive's unfiltered list) sums those counts instead of counting; any
other list (a filter, an owner's narrowed rows) counts as before.

The owning app declares its table: a model for the counts (the key, `row_count`), the triggers in
a migration (`maintained_count_migration`), and in `ready()` which list the counts are the size of
(`maintained_count_register`). `maintained_count_differences` recounts, for the tests and checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from django.core.exceptions import FullResultSet
from django.core.paginator import Paginator
from django.db import connection
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations import RunPython
from django.db.models import Model, QuerySet, Sum


@dataclass(frozen=True)
class MaintainedCount:
    """Counts of `model`'s rows that meet `condition` (SQL over one row), per `key_column`, in `counts_model`."""

    model: type[Model]
    counts_model: type[Model]
    key_column: str
    condition: str
    # The list the counts add up to: a queryset whose filter is exactly `condition`.
    whole_list: Callable[[], QuerySet]


_REGISTERED: dict[type[Model], MaintainedCount] = {}


def maintained_count_register(maintained: MaintainedCount) -> None:
    _REGISTERED[maintained.model] = maintained


def _where(queryset: QuerySet) -> tuple[str, tuple]:
    query = queryset.query
    compiler = query.get_compiler(queryset.db)
    try:
        sql, params = compiler.compile(query.where)
    except FullResultSet:
        return "", ()
    return sql, tuple(params)


def _is_whole(queryset: QuerySet, maintained: MaintainedCount) -> bool:
    query = queryset.query
    if query.is_sliced or query.distinct or query.combinator or query.extra or query.annotations:
        return False
    return _where(queryset) == _where(maintained.whole_list())


def maintained_count(queryset: QuerySet) -> int | None:
    """The number of rows of `queryset` from the kept counts, or None when they do not apply to it."""
    maintained = _REGISTERED.get(queryset.model)
    if maintained is None or connection.vendor != "postgresql" or not _is_whole(queryset, maintained):
        return None
    total = maintained.counts_model._default_manager.aggregate(total=Sum("row_count"))["total"]
    return int(total or 0)


class CountedPaginator(Paginator):
    """Django's paginator, counting from the kept counts when they are the size of the list."""

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            kept = maintained_count(self.object_list)
            if kept is not None:
                return kept
        return super().count


def maintained_count_sql(*, table: str, key_column: str, condition: str, counts_table: str) -> list[str]:
    """The trigger function, the triggers and the first counts for a migration (PostgreSQL).

    Only our own identifiers and a constant condition go into the text.
    """
    function = f"mv_count_{table}"
    add = f"ON CONFLICT ({key_column}) DO UPDATE SET row_count = c.row_count + EXCLUDED.row_count"
    target = f"INSERT INTO {counts_table} AS c ({key_column}, row_count)"
    return [
        f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {target} SELECT {key_column}, count(*) FROM new_rows WHERE {condition} GROUP BY 1 ORDER BY 1 {add};
            ELSIF TG_OP = 'UPDATE' THEN
                {target} SELECT {key_column}, sum(n) FROM (
                    SELECT {key_column}, 1 AS n FROM new_rows WHERE {condition}
                    UNION ALL SELECT {key_column}, -1 FROM old_rows WHERE {condition}
                ) AS changed GROUP BY 1 HAVING sum(n) <> 0 ORDER BY 1 {add};
            ELSIF TG_OP = 'DELETE' THEN
                {target} SELECT {key_column}, -count(*) FROM old_rows WHERE {condition} GROUP BY 1 ORDER BY 1 {add};
            ELSE
                DELETE FROM {counts_table};
            END IF;
            RETURN NULL;
        END $$""",  # noqa: S608 (our identifiers and a constant condition)
        f"""CREATE TRIGGER mv_count_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
        f"""CREATE TRIGGER mv_count_update AFTER UPDATE ON {table}
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
        f"""CREATE TRIGGER mv_count_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
        f"CREATE TRIGGER mv_count_truncate AFTER TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"DELETE FROM {counts_table}",  # noqa: S608 (our identifiers)
        f"INSERT INTO {counts_table} ({key_column}, row_count)"  # noqa: S608
        f" SELECT {key_column}, count(*) FROM {table} WHERE {condition} GROUP BY 1",
    ]


def maintained_count_drop_sql(*, table: str) -> list[str]:
    return [
        *(f"DROP TRIGGER IF EXISTS mv_count_{op} ON {table}" for op in ("insert", "update", "delete", "truncate")),
        f"DROP FUNCTION IF EXISTS mv_count_{table}()",
    ]


def maintained_count_migration(*, table: str, key_column: str, condition: str, counts_table: str) -> RunPython:
    """The migration operation that installs (and, reversed, removes) the triggers of one kept count.

    PostgreSQL only: elsewhere the lists count their rows.
    """

    def create(apps: object, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            sql = maintained_count_sql(
                table=table, key_column=key_column, condition=condition, counts_table=counts_table
            )
            for statement in sql:
                schema_editor.execute(statement)

    def drop(apps: object, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for statement in maintained_count_drop_sql(table=table):
                schema_editor.execute(statement)

    return RunPython(create, drop)


def maintained_count_differences(model: type[Model]) -> dict[int, tuple[int, int]]:
    """Keys whose kept count differs from a recount: {key: (kept, counted)} (empty when exact)."""
    maintained = _REGISTERED[model]
    table, counts_table = model._meta.db_table, maintained.counts_model._meta.db_table
    key = maintained.key_column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT coalesce(k.{key}, r.{key}), coalesce(k.row_count, 0), coalesce(r.n, 0)"  # noqa: S608 (ours)
            f" FROM {counts_table} k FULL JOIN (SELECT {key}, count(*) AS n FROM {table}"
            f" WHERE {maintained.condition} GROUP BY 1) r ON r.{key} = k.{key}"
            " WHERE coalesce(k.row_count, 0) <> coalesce(r.n, 0)"
        )
        return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}
