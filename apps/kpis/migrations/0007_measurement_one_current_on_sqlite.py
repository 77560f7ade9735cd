"""One current revision per KPI and period on SQLite too (the demo's database).

`measurement_one_current_per_period` covers `value` (`include`) so that the evaluation reads its
sums off the index; Django builds covering constraints only where the database has them
(PostgreSQL) and silently skips them elsewhere, which left SQLite without the rule. This adds
the same partial unique index there, without the covered column. PostgreSQL keeps its own.
"""

from django.db import migrations

SQLITE_INDEX = "measurement_one_current_per_period_sqlite"


def _create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f"CREATE UNIQUE INDEX IF NOT EXISTS {SQLITE_INDEX} ON kpis_measurement (kpi_id, period_start)"
            " WHERE is_current"
        )


def _drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP INDEX IF EXISTS {SQLITE_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("kpis", "0006_measurement_count")]

    operations = [migrations.RunPython(_create, _drop)]
