"""Each KPI's running totals by month (`KpiMonthTotal`, `KpiTotal`): window sums without the raw rows.

An evaluation needs, per KPI, how many current outcomes fall in each window and their sum, and the
latest period. Windows are half-open, `[t0, t1)`, so each is `totals_before(t1) - totals_before(t0)`,
and `totals_before(t)` is one row: the running totals of the months before `t`'s month plus the
month's own periods before `t` (`width_bucket` over the month's sorted `periods` counts them,
`running_sums` holds their sum). An evaluation of 10,000 products then reads three rows per KPI
(the date's month and the months its windows start in) instead of scanning two years of outcomes.

How it stays exact (PostgreSQL only; SQLite sums in Python and never reads it):

- It is refreshed with the monthly rollup, in the same transaction and from the same marks
  (`monthly_rollup_refresh`): for each KPI with a marked month, every row from the first marked
  month on is recomputed from the raw rows, starting from the totals of the row before it.
- A pass reads it only when no outcome's mark is pending in the snapshot it reads
  (`kpi_totals_current`); otherwise it sums the raw rows, as before. So a write since the last
  refresh never goes missing: it makes the pass slower, never wrong.
- `manage.py rollup_check` recomputes it from the raw rows and reports any difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache
from typing import Any

from django.db import connection, transaction

from apps.kpis.models import Measurement
from apps.valuation.models import KpiMonthTotal, KpiTotal, RollupChange
from apps.valuation.services.locks import evaluation_session_tune

MONTHS = KpiMonthTotal._meta.db_table
TOTALS = KpiTotal._meta.db_table


@cache
def _replace_sql(months: str, totals: str) -> tuple[str, str]:
    """The refresh's two inserts, into `months` and `totals` (ours, or a check's temporary copies)."""
    # Only table names go into the texts; values are parameters.
    rows = f"""
    WITH touched AS (
        SELECT kpi_id, since FROM unnest(%(kpis)s::bigint[], %(since)s::date[]) AS t(kpi_id, since)
    ),
    base AS (  -- the totals of each KPI's months before the first one recomputed (none: from the start)
        SELECT t.kpi_id, t.since, b.month AS base_month,
            coalesce(b.count_before + cardinality(b.periods), 0) AS count_before,
            coalesce(b.sum_before + coalesce(b.running_sums[cardinality(b.running_sums)], 0), 0) AS sum_before,
            coalesce(b.periods[cardinality(b.periods)], b.latest_before) AS latest_before
        FROM touched t
        LEFT JOIN LATERAL (
            SELECT * FROM {months} r WHERE r.kpi_id = t.kpi_id AND r.month < t.since ORDER BY r.month DESC LIMIT 1
        ) b ON true
    ),
    m AS (
        SELECT m.kpi_id, date_trunc('month', m.period_start)::date AS month, m.period_start,
            sum(m.value) OVER (PARTITION BY m.kpi_id, date_trunc('month', m.period_start)
                               ORDER BY m.period_start) AS running
        FROM {Measurement._meta.db_table} m JOIN base ON base.kpi_id = m.kpi_id
        WHERE m.is_current AND (base.since IS NULL OR m.period_start >= base.since)
    ),
    g AS (
        SELECT kpi_id, month, count(*) AS n, max(period_start) AS latest,
            array_agg(period_start ORDER BY period_start) AS periods,
            array_agg(running ORDER BY period_start) AS running_sums
        FROM m GROUP BY kpi_id, month
    ),
    span AS (  -- no gap after the row before: months without an outcome get empty arrays
        SELECT base.kpi_id, coalesce((base.base_month + interval '1 month')::date, min(g.month)) AS first_month,
            max(g.month) AS last_month
        FROM base JOIN g ON g.kpi_id = base.kpi_id
        GROUP BY base.kpi_id, base.base_month
    ),
    filled AS (
        SELECT span.kpi_id, series.month::date AS month, coalesce(g.n, 0) AS n, g.latest,
            coalesce(g.periods, '{{}}') AS periods, coalesce(g.running_sums, '{{}}') AS running_sums,
            coalesce(g.running_sums[cardinality(g.running_sums)], 0) AS total
        FROM span
        CROSS JOIN LATERAL generate_series(span.first_month::timestamp, span.last_month::timestamp,
                                           interval '1 month') AS series(month)
        LEFT JOIN g ON g.kpi_id = span.kpi_id AND g.month = series.month::date
    )
    INSERT INTO {months} (kpi_id, month, count_before, sum_before, latest_before, periods, running_sums)
    SELECT f.kpi_id, f.month,
        b.count_before + sum(f.n) OVER w - f.n,
        b.sum_before + sum(f.total) OVER w - f.total,
        coalesce(max(f.latest) OVER (PARTITION BY f.kpi_id ORDER BY f.month
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), b.latest_before),
        f.periods, f.running_sums
    FROM filled f JOIN base b ON b.kpi_id = f.kpi_id
    WINDOW w AS (PARTITION BY f.kpi_id ORDER BY f.month ROWS UNBOUNDED PRECEDING)
    ORDER BY f.month, f.kpi_id
    """  # noqa: S608
    last_rows = f"""
    INSERT INTO {totals} (kpi_id, last_month, count, total, latest)
    SELECT t.kpi_id, r.month, r.count_before + cardinality(r.periods),
        r.sum_before + coalesce(r.running_sums[cardinality(r.running_sums)], 0),
        coalesce(r.periods[cardinality(r.periods)], r.latest_before)
    FROM unnest(%(kpis)s::bigint[]) AS t(kpi_id)
    CROSS JOIN LATERAL (
        SELECT * FROM {months} r WHERE r.kpi_id = t.kpi_id ORDER BY r.month DESC LIMIT 1
    ) r
    """  # noqa: S608
    return rows, last_rows


def kpi_totals_refresh(marks: Iterable[tuple[int | None, int | None, date | None]]) -> int:
    """Recompute each marked KPI's months from its first marked month on (PostgreSQL; rows written).

    `marks` are the rollup's (kpi, product, month) marks, already taken by the caller under the
    rollup's lock. Only outcome marks matter here (a KPI and a month): a KPI's terms (month None)
    change what its outcomes are worth, not how many there are or their sum. Five statements
    whatever the number of KPIs.
    """
    if connection.vendor != "postgresql":
        return 0
    since: dict[int, date] = {}
    for kpi_id, _, month in marks:
        if kpi_id is not None and month is not None:
            since[kpi_id] = min(month, since.get(kpi_id, month))
    if not since:
        return 0
    kpis = sorted(since)
    return _replace(kpis, [since[kpi_id] for kpi_id in kpis])


def kpi_totals_rebuild() -> int:
    """Recompute every KPI's months from the raw rows (with the rollup's rebuild; PostgreSQL). Rows written."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {MONTHS}, {TOTALS}")
        cursor.execute(f"SELECT DISTINCT kpi_id FROM {Measurement._meta.db_table} WHERE is_current")  # noqa: S608
        kpis = sorted(kpi_id for (kpi_id,) in cursor.fetchall())
    return _replace(kpis, [None] * len(kpis))


def _replace(kpis: list[int], since: list[date | None], months: str = MONTHS, totals: str = TOTALS) -> int:
    params: dict[str, Any] = {"kpis": kpis, "since": since}
    rows, last_rows = _replace_sql(months, totals)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {months} r USING unnest(%(kpis)s::bigint[], %(since)s::date[]) AS t(kpi_id, since)"  # noqa: S608
            " WHERE r.kpi_id = t.kpi_id AND (t.since IS NULL OR r.month >= t.since)",
            params,
        )
        cursor.execute(rows, params)
        written = cursor.rowcount
        # A KPI left with no outcome from its first marked month on (they were deleted) now ends in
        # the months before it, which may be empty: its rows end at its last month with an outcome.
        cursor.execute(
            f"""WITH emptied AS (
                SELECT t.kpi_id, (SELECT max(r.month) FROM {months} r
                                  WHERE r.kpi_id = t.kpi_id AND cardinality(r.periods) > 0) AS last_full
                FROM unnest(%(kpis)s::bigint[], %(since)s::date[]) AS t(kpi_id, since)
                WHERE t.since IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM {months} r WHERE r.kpi_id = t.kpi_id AND r.month >= t.since)
            )
            DELETE FROM {months} r USING emptied e
            WHERE r.kpi_id = e.kpi_id AND (e.last_full IS NULL OR r.month > e.last_full)""",  # noqa: S608
            params,
        )
        cursor.execute(f"DELETE FROM {totals} WHERE kpi_id = ANY(%(kpis)s::bigint[])", params)  # noqa: S608
        cursor.execute(last_rows, params)
    return written


def kpi_totals_current(cursor: Any) -> bool:
    """Whether the totals hold every outcome this cursor's snapshot sees (no outcome mark pending)."""
    cursor.execute(
        f"SELECT NOT EXISTS (SELECT 1 FROM {RollupChange._meta.db_table}"  # noqa: S608
        " WHERE kpi_id IS NOT NULL AND month IS NOT NULL)"
    )
    (current,) = cursor.fetchone()
    return bool(current)


def kpi_window_sums_from_totals(as_of: date, lengths: list[int], horizon: date, kpis_in_range: str = "") -> str:
    """`gather._kpi_window_sums_select`'s columns, read from the running totals instead of the raw rows.

    Per KPI: `latest` (its latest period in `[horizon, as_of)`), `count_i` and `sum_i` over window
    `i` (parameters `since_{i}`, the windows' starts), and `count_end` and `sum_end`, every current
    outcome before `as_of` (from which `late_totals_before` subtracts a late attribution's start).
    Parameters `as_of`, `horizon` and `since_{i}`; the month and day-before parameters it needs
    are in `kpi_totals_params`.
    """
    joins, befores = [], {}
    for name in ["end", *map(str, range(len(lengths)))]:
        month = f"%(month_{name})s"
        row = _month_row(month, f"%(day_before_{name})s::date")
        joins.append(f"LEFT JOIN ({row}) b_{name} ON b_{name}.kpi_id = t.kpi_id")
        befores[name] = _totals_before(f"b_{name}", month)
    columns = []
    for part in (0, 1):  # count, sum
        label = ("count", "sum")[part]
        columns.append(f"{befores['end'][part]} AS {label}_end")
        columns.extend(
            f"{befores['end'][part]} - {befores[str(index)][part]} AS {label}_{index}" for index in range(len(lengths))
        )
    latest = befores["end"][2]
    return f"""
        SELECT t.kpi_id, CASE WHEN {latest} >= %(horizon)s THEN {latest} END AS latest, {", ".join(columns)}
        FROM {TOTALS} t {" ".join(joins)}
        WHERE true {kpis_in_range}"""  # noqa: S608


def late_totals_before(kpi: str, since: str) -> tuple[str, str, str]:
    """For a query joining `{TOTALS} t ON t.kpi_id = {kpi}`: the join of the month row of date `since`
    (aliased `x`), and the count and the sum of the KPI's current outcomes before `since`."""
    month = f"date_trunc('month', {since})::date"
    # By the key, for the few late attributions: LIMIT 1 (one row at most) keeps the planner from
    # turning it into a hash join, which would read every row of the table.
    row = _month_row(month, f"({since} - 1)::date", kpi=kpi)
    count, total, _ = _totals_before("x", month)
    return f"LEFT JOIN LATERAL ({row} LIMIT 1) x ON true", count, total


def _month_row(month: str, day_before: str, kpi: str | None = None) -> str:
    """The month rows of `month` (of KPI `kpi` only, if given), with `i`: how many of the month's
    periods come before the boundary (on or before `day_before`, the day before it)."""
    of_kpi = f" AND kpi_id = {kpi}" if kpi else ""
    return f"SELECT *, width_bucket({day_before}, periods) AS i FROM {MONTHS} WHERE month = {month}{of_kpi}"  # noqa: S608


def _totals_before(row: str, month: str) -> tuple[str, str, str]:
    """The count, the sum and the latest period of a KPI's current outcomes before a boundary in `month`.

    From the KPI's row of that month (`row`, from `_month_row`) when it has one; all of them
    (`KpiTotal` `t`) when the month comes after its last; none when it comes before its first.
    """

    def pick(in_month: str, whole: str, none: str) -> str:
        return (
            f"(CASE WHEN {row}.kpi_id IS NOT NULL THEN {in_month}"
            f" WHEN t.last_month < {month} THEN {whole} ELSE {none} END)"
        )

    return (
        pick(f"{row}.count_before + {row}.i", "t.count", "0"),
        pick(f"{row}.sum_before + coalesce({row}.running_sums[{row}.i], 0)", "t.total", "0"),
        pick(f"coalesce({row}.periods[{row}.i], {row}.latest_before)", "t.latest", "NULL"),
    )


def kpi_totals_params(as_of: date, lengths: list[int]) -> dict[str, date]:
    """The month and day-before parameters of `kpi_window_sums_from_totals` for these windows."""
    params: dict[str, date] = {}
    boundaries = {"end": as_of, **{str(index): as_of - timedelta(days=length) for index, length in enumerate(lengths)}}
    for name, boundary in boundaries.items():
        params[f"month_{name}"] = boundary.replace(day=1)
        params[f"day_before_{name}"] = boundary - timedelta(days=1)
    return params


def kpi_totals_differences() -> list[tuple[str, int, date | None]]:
    """Rows of the running totals that differ from a recomputation from the raw rows (PostgreSQL; else none).

    Recomputes every KPI, with the refresh's own statements, into temporary tables (the stored
    ones are only read) and compares row by row: `("month", kpi, month)` for a `KpiMonthTotal` row
    stored and recomputed differently (or on one side only), `("total", kpi, None)` for a `KpiTotal`.
    """
    if connection.vendor != "postgresql":
        return []
    with transaction.atomic(), connection.cursor() as cursor:
        evaluation_session_tune()
        for table, copy in ((MONTHS, "expected_months"), (TOTALS, "expected_totals")):
            cursor.execute(f"CREATE TEMPORARY TABLE {copy} (LIKE {table} INCLUDING ALL) ON COMMIT DROP")
        cursor.execute(f"SELECT DISTINCT kpi_id FROM {Measurement._meta.db_table} WHERE is_current")  # noqa: S608
        kpis = sorted(kpi_id for (kpi_id,) in cursor.fetchall())
        _replace(kpis, [None] * len(kpis), months="expected_months", totals="expected_totals")
        cursor.execute(
            f"SELECT 'month', coalesce(a.kpi_id, b.kpi_id), coalesce(a.month, b.month) FROM {MONTHS} a"  # noqa: S608
            " FULL JOIN expected_months b ON a.kpi_id = b.kpi_id AND a.month = b.month"
            " WHERE (a.count_before, a.sum_before, a.latest_before, a.periods, a.running_sums)"
            " IS DISTINCT FROM (b.count_before, b.sum_before, b.latest_before, b.periods, b.running_sums)"
            f" UNION ALL SELECT 'total', coalesce(a.kpi_id, b.kpi_id), NULL FROM {TOTALS} a"
            " FULL JOIN expected_totals b ON a.kpi_id = b.kpi_id"
            " WHERE (a.last_month, a.count, a.total, a.latest) IS DISTINCT FROM"
            " (b.last_month, b.count, b.total, b.latest)"
            " ORDER BY 1, 2, 3"
        )
        differences = [(kind, kpi_id, month) for kind, kpi_id, month in cursor.fetchall()]
        transaction.set_rollback(True)  # the temporary tables go with it
        return differences
