"""Import data products from Bitol ODPS v1, ODPS 4.x or DataHub YAML files: all or nothing."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.interchange.files import FilesRefused, sources_from_path
from apps.interchange.lifecycle import FORMATS
from apps.interchange.services import ImportFailed, ImportResult, products_import


class Command(BaseCommand):
    help = "Import data products from a folder, a zip, or one YAML file. Nothing is stored when any file is bad."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="A folder of .yaml/.yml files, a .zip, or one file.")
        parser.add_argument("--format", choices=FORMATS, required=True, dest="file_format")
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; store nothing.")
        parser.add_argument(
            "--create-domains", action="store_true", help="Create domains the files name but meshvalue lacks."
        )
        parser.add_argument("--owner", help="The owner (username or e-mail) of products whose file names none.")
        parser.add_argument("--domain", help="The domain (name or slug) of products whose file names none.")

    def handle(self, *args, **options) -> None:
        try:
            sources, skipped = sources_from_path(Path(options["path"]))
            result = products_import(
                sources=sources,
                skipped=skipped,
                file_format=options["file_format"],
                dry_run=options["dry_run"],
                create_domains=options["create_domains"],
                default_owner=options["owner"],
                default_domain=options["domain"],
            )
        except FilesRefused as error:
            for problem in error.problems:
                self.stderr.write(str(problem))
            raise CommandError("Nothing was imported: the input was refused.") from None
        except ImportFailed as error:
            for problem in error.result.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"Nothing was imported: {len(error.result.problems)} problem(s).") from None
        self._report(result)

    def _report(self, result: ImportResult) -> None:
        for product in result.products:
            detail = f" ({'; '.join(product.changes)})" if product.changes else ""
            self.stdout.write(f"{product.outcome:9} {product.slug} [{product.file}]{detail}")
        for skipped in result.skipped:
            self.stdout.write(f"skipped   {skipped.what} [{skipped.file}]: {skipped.why}")
        for slug in result.domains_created:
            self.stdout.write(f"domain    {slug} created (--create-domains)")
        counts = ", ".join(f"{count} {name}" for name, count in result.counts.items())
        prefix = "Dry run (nothing stored): " if result.dry_run else "Imported: "
        self.stdout.write(self.style.SUCCESS(f"{prefix}{counts}."))
