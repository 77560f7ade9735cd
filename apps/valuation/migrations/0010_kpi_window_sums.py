"""The per-KPI window sums an evaluation run shares between its chunks (PostgreSQL only).

Unlogged: derived data for the length of one run, recomputed by the next run after a crash, and
not worth the WAL. Elsewhere (SQLite, the demo) every chunk sums for itself.
"""

from django.db import migrations

CREATE = """
CREATE UNLOGGED TABLE valuation_kpi_window_sums (
    run_id bigint NOT NULL,
    window_key text NOT NULL,
    kpi_id bigint NOT NULL,
    latest date,
    counts bigint[] NOT NULL,
    sums numeric[] NOT NULL,
    PRIMARY KEY (run_id, window_key, kpi_id)
)
"""


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TABLE IF EXISTS valuation_kpi_window_sums")


class Migration(migrations.Migration):
    dependencies = [("valuation", "0009_domain_monthly_figures")]

    operations = [migrations.RunPython(create, drop)]
