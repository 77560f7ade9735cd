"""The current cost entries per product, kept by triggers (PostgreSQL; apps.core.counts), for the list's count."""

from django.db import migrations, models

from apps.core.counts import maintained_count_migration


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
        maintained_count_migration(
            table="costs_costentry", key_column="data_product_id", condition="is_current", counts_table="costs_costentrycount"
        ),
    ]
