"""The database cache's table, for installations without Redis (the demo on SQLite).

`createcachetable` creates the table of every DatabaseCache in CACHES and does nothing when the
cache is Redis (REDIS_URL set), so `migrate` is the one step either way.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies: list = []

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=False)]
