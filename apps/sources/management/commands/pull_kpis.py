"""Pull sourced KPIs from their data sources now, in this process (no worker needed)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.kpis.selectors import sourced_kpis
from apps.sources.models import PullStatus, PullTrigger
from apps.sources.services import kpi_pull


class Command(BaseCommand):
    help = "Pull every KPI that has a data source (or only --kpi ID) and record a pull run for each."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kpi", type=int, help="Pull only this KPI (its id).")

    def handle(self, *args, **options) -> None:
        kpi_id = options["kpi"]
        if kpi_id is not None:
            kpi = sourced_kpis().filter(pk=kpi_id).first()
            if kpi is None:
                raise CommandError(f"KPI {kpi_id} does not exist or has no data source and query.")
            kpi_ids = [kpi.pk]
        else:
            kpi_ids = list(sourced_kpis().values_list("id", flat=True))
        failed = 0
        for pk in kpi_ids:
            run = kpi_pull(kpi_id=pk, trigger=PullTrigger.COMMAND)
            if run is None:
                continue
            if run.status == PullStatus.FAILED:
                failed += 1
                self.stderr.write(f"KPI {pk} ({run.kpi.name}): failed: {run.error.splitlines()[0]}")
            else:
                refused = f", {len(run.refused)} refused" if run.refused else ""
                self.stdout.write(
                    f"KPI {pk} ({run.kpi.name}): {run.rows_read} read, {run.rows_stored} stored "
                    f"({run.rows_corrected} corrections), {run.rows_unchanged} unchanged{refused}."
                )
        if failed:
            raise CommandError(f"{failed} of {len(kpi_ids)} pull(s) failed; see above.")
        self.stdout.write(self.style.SUCCESS(f"Pulled {len(kpi_ids)} KPI(s)."))
