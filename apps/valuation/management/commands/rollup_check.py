"""`manage.py rollup_check [--rebuild] [--no-refresh]`: compare the monthly rollup with the raw rows.

Recomputes every product's value and cost per month from the current measurements, attributions
and cost entries, and lists each product month where the maintained rollup differs, and each
domain month whose stored total is not the sum of its products' months, and (PostgreSQL) each
row of the KPIs' running totals that an evaluation reads instead of the raw outcomes
(`apps.valuation.services.kpi_totals`) and a recomputation gives differently. Exits 1 when
there is a difference, so a cron or CI can alert on it. `--rebuild` then rewrites the rollup from
the raw rows (the repair).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from apps.valuation.services.kpi_totals import kpi_totals_differences
from apps.valuation.services.rollup import (
    domain_rollup_differences,
    monthly_rollup_differences,
    monthly_rollup_rebuild,
)

SHOWN = 20


class Command(BaseCommand):
    help = "Recompute the monthly value/cost rollup from the raw rows and report any difference (exit 1 if any)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-refresh", action="store_true", help="Compare without applying pending changes first.")
        parser.add_argument("--rebuild", action="store_true", help="Rewrite the rollup from the raw rows afterwards.")

    def handle(self, *args, **options) -> None:
        differences = monthly_rollup_differences(refresh=not options["no_refresh"])
        for difference in differences[:SHOWN]:
            self.stdout.write(
                f"product {difference.product_id} {difference.month:%Y-%m}: "
                f"stored {_pair(difference.stored)}, recomputed {_pair(difference.recomputed)}"
            )
        if len(differences) > SHOWN:
            self.stdout.write(f"... and {len(differences) - SHOWN} more")
        domains = domain_rollup_differences()
        for domain_id, month, stored, summed in domains[:SHOWN]:
            self.stdout.write(
                f"domain {domain_id} {month:%Y-%m}: stored {_pair(stored)}, sum of its products {_pair(summed)}"
            )
        kpi_rows = kpi_totals_differences()
        for kind, kpi_id, kpi_month in kpi_rows[:SHOWN]:
            where = f"{kpi_month:%Y-%m}" if kpi_month is not None else "all months"
            self.stdout.write(f"KPI {kpi_id} running totals ({kind}, {where}): stored and recomputed differ")
        if options["rebuild"]:
            rows = monthly_rollup_rebuild()
            self.stdout.write(
                self.style.SUCCESS(f"Rebuilt the monthly rollup from the raw rows: {rows} product months.")
            )
        if differences or domains or kpi_rows:
            self.stderr.write(
                f"rollup_check: {len(differences)} product month(s) differ from the raw rows,"
                f" {len(domains)} domain month(s) from the sum of their products,"
                f" {len(kpi_rows)} row(s) of the KPIs' running totals from a recomputation."
            )
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS("The monthly rollup matches the raw rows."))


def _pair(figures: tuple | None) -> str:
    return "nothing" if figures is None else f"value {figures[0]}, cost {figures[1]}"
