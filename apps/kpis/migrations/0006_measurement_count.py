"""The measurements per KPI (every revision), kept by triggers (PostgreSQL; apps.core.counts), for the list's count."""

from django.db import migrations, models

from apps.core.counts import maintained_count_migration


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
        maintained_count_migration(
            table="kpis_measurement", key_column="kpi_id", condition="true", counts_table="kpis_measurementcount"
        ),
    ]
