"""The KPI figures per product that an evaluation run shares between its chunks (PostgreSQL only).

Replaces the per-KPI window sums of 0010: a chunk that read those still joined its attributions,
summed its late attributions' own periods and grouped per product, which cost more per product than
one pass. Now the run does all of that once, when it begins, and a chunk reads its products' rows.
Unlogged: derived data for the length of one run, recomputed by the next run after a crash, and not
worth the WAL. Elsewhere (SQLite, the demo) every chunk sums for itself.
"""

from django.db import migrations

CREATE = """
CREATE UNLOGGED TABLE valuation_run_kpi_figures (
    run_id bigint NOT NULL,
    window_key text NOT NULL,
    product_id bigint NOT NULL,
    kpi_count integer NOT NULL,
    figure_values numeric[],
    measured bigint[],
    names text[],
    stale json,
    PRIMARY KEY (run_id, window_key, product_id)
)
"""


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TABLE IF EXISTS valuation_kpi_window_sums")
        schema_editor.execute(CREATE)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TABLE IF EXISTS valuation_run_kpi_figures")
        schema_editor.execute(
            """CREATE UNLOGGED TABLE valuation_kpi_window_sums (
                run_id bigint NOT NULL, window_key text NOT NULL, kpi_id bigint NOT NULL, latest date,
                counts bigint[] NOT NULL, sums numeric[] NOT NULL, PRIMARY KEY (run_id, window_key, kpi_id))"""
        )


class Migration(migrations.Migration):
    dependencies = [("valuation", "0011_evaluation_evaluation_date_product")]

    operations = [migrations.RunPython(create, drop)]
