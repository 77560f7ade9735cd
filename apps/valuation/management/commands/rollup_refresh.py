"""`manage.py rollup_refresh`: apply the pending changes to the monthly rollup now.

The daily evaluation run and the pages that read the rollup do this by themselves; the command
is for after a bulk load (a restore, a benchmark's portfolio) so that the first page is not the
one that pays for it.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.valuation.services.rollup import monthly_rollup_refresh


class Command(BaseCommand):
    help = "Apply the pending changes to the monthly value/cost rollup now."

    def handle(self, *args, **options) -> None:
        refresh = monthly_rollup_refresh()
        assert refresh is not None  # waiting for the lock never skips
        self.stdout.write(
            self.style.SUCCESS(
                f"Monthly rollup refreshed: {refresh.changes} change(s), {refresh.products} product(s),"
                f" {refresh.months_written} product month(s) written."
            )
        )
