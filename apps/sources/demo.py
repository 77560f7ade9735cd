"""The demo's warehouse: a DuckDB file of the retail domain's KPI history, and two KPIs pulled from it.

`seed_demo` calls `demo_warehouse_seed` after loading the portfolio. The file is written where
`MESHVALUE_SOURCE_DEMO_WAREHOUSE_URL` points (`make demo` sets it to `demo-warehouse.duckdb` next
to the demo's SQLite database); without the variable nothing is written and the step says so.

The warehouse holds the outcomes the seed logged (their first revision), except that the last
four periods of each KPI were restated by finance afterwards: the first pull stores those as
corrections (source `sql`, by `meshvalue-sources`), the second finds nothing new. Running the seed
again rewrites the same file and pulls nothing (a KPI that has runs is not pulled again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from apps.kpis.models import KPI, Measurement
from apps.sources.models import DataSource, PullRun, SourceKind
from apps.sources.reading import source_url
from apps.sources.services import kpi_pull

SOURCE_NAME = "demo_warehouse"
DOMAIN_SLUG = "retail"
# (goal slug, KPI name) of the two KPIs pulled from the warehouse.
PULLED = [("grow-repeat-purchases", "Repeat purchase rate"), ("raise-basket-size", "Average basket value")]
RESTATED_PERIODS = 4
RESTATEMENT = Decimal("1.006")  # finance's final figures came in 0.6 % higher

QUERY = """SELECT period_start, value
FROM retail_kpi_history
WHERE kpi = '{name}'
ORDER BY period_start"""


@dataclass(frozen=True)
class DemoWarehouse:
    path: str | None
    rows: int
    runs: int
    message: str


def _history(kpis: list[KPI]) -> list[tuple[str, object, Decimal]]:
    """(KPI name, period_start, value) of the retail domain's KPIs, the last periods restated."""
    rows: list[tuple[str, object, Decimal]] = []
    by_kpi: dict[int, list[tuple[date, Decimal]]] = {}
    for kpi_id, start, value in (
        Measurement.objects.filter(kpi__in=kpis, revision=1).order_by("kpi_id", "period_start")
    ).values_list("kpi_id", "period_start", "value"):
        by_kpi.setdefault(kpi_id, []).append((start, value))
    for kpi in kpis:
        history = by_kpi.get(kpi.pk, [])
        for index, (start, value) in enumerate(history):
            if index >= len(history) - RESTATED_PERIODS:
                value = (value * RESTATEMENT).quantize(Decimal("0.0001"))
            rows.append((kpi.name, start, value))
    return rows


def demo_warehouse_seed() -> DemoWarehouse:
    """Write the demo warehouse, declare it as a source, point two KPIs at it and pull them twice."""
    source, _ = DataSource.objects.get_or_create(
        name=SOURCE_NAME,
        defaults={
            "kind": SourceKind.DUCKDB,
            "description": "The demo's warehouse: a DuckDB file with the retail domain's KPI history.",
        },
    )
    url = source_url(source)
    if url is None or not url.startswith("duckdb:"):
        return DemoWarehouse(
            None, 0, 0, f"{source.env_var} is not set to a duckdb: URL; the demo warehouse was not written."
        )
    path = Path(url[len("duckdb:") :].removeprefix("//"))
    kpis = list(KPI.objects.filter(goal__domain__slug=DOMAIN_SLUG).select_related("goal").order_by("id"))
    rows = _history(kpis)
    _write(path, rows)

    pulled = []
    with transaction.atomic():
        for goal_slug, name in PULLED:
            kpi = next((k for k in kpis if k.name == name and k.goal.slug == goal_slug), None)
            if kpi is None:
                continue
            if kpi.source_id is None:
                kpi.source, kpi.source_query = source, QUERY.format(name=name)  # our constant, not user input
                kpi.full_clean()
                kpi.save(update_fields=["source", "source_query"])
            pulled.append(kpi)
    runs = 0
    for kpi in pulled:
        if PullRun.objects.filter(kpi=kpi).exists():
            continue
        for _ in range(2):  # the first stores the restated periods, the second finds nothing new
            runs += kpi_pull(kpi_id=kpi.pk) is not None
    return DemoWarehouse(str(path), len(rows), runs, f"demo warehouse: {len(rows)} rows, {runs} pull runs")


def _write(path: Path, rows: list[tuple[str, object, Decimal]]) -> None:
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    with duckdb.connect(str(partial)) as connection:
        connection.execute(
            "CREATE TABLE retail_kpi_history (kpi VARCHAR NOT NULL, period_start DATE NOT NULL, "
            "value DECIMAL(20, 4) NOT NULL, PRIMARY KEY (kpi, period_start))"
        )
        connection.executemany("INSERT INTO retail_kpi_history VALUES (?, ?, ?)", rows)
    partial.replace(path)  # a pull reading the file meanwhile sees the old one or the new one
