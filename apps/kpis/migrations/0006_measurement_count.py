"""The measurements per KPI (every revision), kept by triggers (PostgreSQL; apps.core.counts), for the list's count."""

from django.db import migrations, models

from apps.core.counts import maintained_count_drop_sql, maintained_count_sql

TABLE = {"table": "kpis_measurement", "key_column": "kpi_id", "condition": "true", "counts_table": "kpis_measurementcount"}


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in maintained_count_sql(**TABLE):
            schema_editor.execute(sql)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in maintained_count_drop_sql(table=TABLE["table"]):
            schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ('kpis', '0005_measurement_current_covers_value'),
    ]

    operations = [
        migrations.CreateModel(
            name='MeasurementCount',
            fields=[
                ('kpi_id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('row_count', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(create, drop),
    ]
