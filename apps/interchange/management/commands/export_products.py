"""Write the catalog as Bitol ODPS v1 or ODPS 4.1 files, one `<slug>.yaml` per product."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.catalog.models import Lifecycle
from apps.interchange.exports import products_export
from apps.interchange.lifecycle import EXPORT_FORMATS


class Command(BaseCommand):
    help = "Export data products as catalog files (one <slug>.yaml each) into DIR."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", help="The folder to write into (created when missing).")
        parser.add_argument("--format", choices=EXPORT_FORMATS, default="bitol", dest="file_format")
        parser.add_argument("--domain", help="Only the products of this domain (its slug).")
        parser.add_argument("--lifecycle", choices=Lifecycle.values, help="Only products in this lifecycle.")
        parser.add_argument("--decided-since", help="Only products with a decision on or after this date (YYYY-MM-DD).")

    def handle(self, *args, **options) -> None:
        decided_since = None
        if options["decided_since"]:
            try:
                decided_since = date.fromisoformat(options["decided_since"])
            except ValueError:
                raise CommandError(
                    f"--decided-since must be a date like 2026-11-21, got {options['decided_since']!r}."
                ) from None
        directory = Path(options["directory"])
        if directory.exists() and not directory.is_dir():
            raise CommandError(f"{directory} exists and is not a folder.")
        files = products_export(
            file_format=options["file_format"],
            domain_slug=options["domain"],
            lifecycle=options["lifecycle"],
            decided_since=decided_since,
        )
        directory.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (directory / name).write_bytes(content)
        self.stdout.write(self.style.SUCCESS(f"Wrote {len(files)} {options['file_format']} file(s) to {directory}."))
