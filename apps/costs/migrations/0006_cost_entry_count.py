"""The current cost entries per product, kept by triggers (PostgreSQL; apps.core.counts), for the list's count."""

from django.db import migrations, models

from apps.core.counts import maintained_count_drop_sql, maintained_count_sql

TABLE = {"table": "costs_costentry", "key_column": "data_product_id", "condition": "is_current", "counts_table": "costs_costentrycount"}


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
        ('costs', '0005_costentry_cost_current_list'),
    ]

    operations = [
        migrations.CreateModel(
            name='CostEntryCount',
            fields=[
                ('data_product_id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('row_count', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(create, drop),
    ]
