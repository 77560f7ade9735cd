"""Each KPI's running totals by month, which evaluations read instead of the raw outcomes (PostgreSQL).

Built here from the outcomes already stored; from then on the monthly rollup's refresh keeps them
(`apps.valuation.services.kpi_totals`). Elsewhere (SQLite, the demo) the tables stay empty.
"""

from django.db import migrations, models

import apps.valuation.models


def build(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from apps.valuation.services.kpi_totals import kpi_totals_rebuild

    kpi_totals_rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("valuation", "0014_portfolio_change_links"),
    ]

    operations = [
        migrations.CreateModel(
            name="KpiTotal",
            fields=[
                ("kpi_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("last_month", models.DateField()),
                ("count", models.BigIntegerField()),
                ("total", models.DecimalField(decimal_places=4, max_digits=34)),
                ("latest", models.DateField(null=True)),
            ],
        ),
        migrations.CreateModel(
            name="KpiMonthTotal",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "month", "kpi_id", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("month", models.DateField(help_text="The first day of the month.")),
                ("kpi_id", models.BigIntegerField()),
                ("count_before", models.BigIntegerField()),
                ("sum_before", models.DecimalField(decimal_places=4, max_digits=34)),
                ("latest_before", models.DateField(null=True)),
                ("periods", apps.valuation.models._ArrayOf("date")),
                ("running_sums", apps.valuation.models._ArrayOf("numeric")),
            ],
            options={
                "indexes": [models.Index(fields=["kpi_id", "month"], name="kpi_month_total_kpi")],
            },
        ),
        migrations.RunPython(build, migrations.RunPython.noop),
    ]
