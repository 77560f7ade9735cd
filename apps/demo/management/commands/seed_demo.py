"""Load the demo portfolio (deterministic and idempotent)."""

from __future__ import annotations

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.demo.demo_seed import seed_demo


class Command(BaseCommand):
    help = "Load a realistic demo portfolio. Running it twice adds nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="Build the history up to this date (YYYY-MM-DD); default: today.")

    def handle(self, *args, **options) -> None:
        today = None
        if options["today"]:
            try:
                today = date.fromisoformat(options["today"])
            except ValueError as error:
                raise CommandError(f"--today must be a date like 2026-11-21, got {options['today']!r}.") from error
        started = time.monotonic()
        summary = seed_demo(today=today)
        added = ", ".join(f"{count} {name}" for name, count in vars(summary).items())
        self.stdout.write(
            self.style.SUCCESS(f"Demo portfolio ready in {time.monotonic() - started:.1f}s; added {added}.")
        )
        # Two KPIs pulled from a DuckDB warehouse (apps.sources.demo; the variable tells where the file goes).
        from apps.sources.demo import demo_warehouse_seed

        self.stdout.write(demo_warehouse_seed().message)
