"""`manage.py import_costs FILE [--format focus] [--dry-run]`: import a cloud bill (csv, csv.gz or Parquet)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.costs.focus import FocusError
from apps.costs.imports import cost_import_create, cost_import_dry_run, cost_import_run
from apps.costs.models import CostImportStatus


class Command(BaseCommand):
    help = "Import a FOCUS billing export: allocate it with the allocation rules and record cost revisions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A FOCUS 1.0-1.3 export: .csv, .csv.gz or .parquet")
        parser.add_argument("--format", default="focus", choices=["focus"], help="The file's format (focus).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Read and allocate, print the result, store nothing."
        )

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        progress = self._progress if self.stdout.isatty() else None
        if options["dry_run"]:
            try:
                outcome = cost_import_dry_run(path=path, progress=progress)
            except FocusError as error:
                raise CommandError("\n".join(error.errors)) from error
            self._end_progress(progress)
            self._print(outcome.result, rows=outcome.read.rows_read, warnings=outcome.read.warnings)
            self.stdout.write("Dry run: nothing was stored.")
            return
        cost_import = cost_import_create(file_name=path.name, file_path=path.resolve(), dispatch=False)
        finished = cost_import_run(import_id=cost_import.pk, progress=progress, remove_file=False)
        if finished is None:
            raise CommandError(f"The import {cost_import.pk} is gone.")
        cost_import = finished
        self._end_progress(progress)
        if cost_import is None or cost_import.status != CostImportStatus.SUCCEEDED:
            errors = cost_import.errors if cost_import is not None else ["The import disappeared."]
            raise CommandError("\n".join(errors))
        self._print(cost_import.result, rows=cost_import.rows_read, warnings=cost_import.warnings)
        self.stdout.write(
            self.style.SUCCESS(
                f"Import {cost_import.pk}: {cost_import.result.get('revisions_created', 0)} cost revisions written, "
                f"{cost_import.result.get('entries_unchanged', 0)} unchanged."
            )
        )

    def _progress(self, percent: int) -> None:
        self.stdout.write(f"\rReading the bill: {percent:3d}%", ending="")
        self.stdout.flush()

    def _end_progress(self, progress) -> None:
        if progress is not None:
            self.stdout.write("\rReading the bill: 100%")

    def _print(self, result: dict, *, rows: int, warnings: list[str]) -> None:
        self.stdout.write(f"Lines read: {rows}")
        for month in result.get("months", []):
            self.stdout.write(
                f"{month['month'][:7]}: effective {month['effective']}, billed {month['billed']} (bill currency); "
                f"converted {month['converted']}, allocated {month['allocated']}, unallocated {month['unallocated']}"
            )
        for row in result.get("allocated", []):
            self.stdout.write(f"  {row['month'][:7]} {row['name']} {row['category']}: {row['amount']}")
        for warning in warnings:
            self.stderr.write(f"warning: {warning}")
