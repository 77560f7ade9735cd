"""The catalog-file page's forms and the import's preview: dry run first, then the same file for real.

The import itself is `apps.interchange.services.products_import`, the one the API and the
command use; the file waits in the session between the dry run and the confirmation, and is
read and checked again when confirmed.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.http import HttpRequest

from apps.catalog.models import Lifecycle
from apps.catalog.selectors import domain_list
from apps.interchange.files import FileProblem, FilesRefused, sources_from_upload
from apps.interchange.lifecycle import EXPORT_FORMATS, FORMATS
from apps.interchange.services import ImportFailed, ImportResult, products_import

SESSION_KEY = "web_catalog_imports"
MAX_STASHED = 3
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
FORMAT_LABELS = {"bitol": "Bitol ODPS v1", "odps4": "ODPS 4.1", "datahub": "DataHub YAML"}


class CatalogImportForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "import_%s")  # the export form shares the page
        super().__init__(*args, **kwargs)

    file = forms.FileField(
        label="Catalog file", help_text="One .yaml/.yml file, or a .zip of them (at most 5 MB here)."
    )
    format = forms.ChoiceField(label="Format", choices=[(f, FORMAT_LABELS[f]) for f in FORMATS])
    create_domains = forms.BooleanField(
        label="Create domains the files name but meshvalue lacks", required=False, initial=False
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB; split it, or use the API or the command.")
        return upload


class CatalogExportForm(forms.Form):
    format = forms.ChoiceField(label="Format", choices=[(f, FORMAT_LABELS[f]) for f in EXPORT_FORMATS])
    domain = forms.ChoiceField(label="Domain", required=False)
    lifecycle = forms.ChoiceField(label="Lifecycle", required=False, choices=[("", "Any"), *Lifecycle.choices])
    decided_since = forms.DateField(
        label="Decided since",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Only products with a decision on or after this date.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "export_%s")
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["domain"]).choices = [
            ("", "Any"),
            *((d.slug, d.name) for d in domain_list()),
        ]


@dataclass
class ImportPreview:
    """What the page shows after a dry run or an import: the result, or every problem."""

    filename: str
    file_format: str
    create_domains: bool
    result: ImportResult | None = None
    problems: list[FileProblem] | None = None
    token: str = ""


def run(*, filename: str, content: bytes, file_format: str, create_domains: bool, dry_run: bool) -> ImportPreview:
    preview = ImportPreview(filename=filename, file_format=file_format, create_domains=create_domains)
    try:
        sources, skipped = sources_from_upload(filename, content)
        preview.result = products_import(
            sources=sources, skipped=skipped, file_format=file_format, dry_run=dry_run, create_domains=create_domains
        )
    except FilesRefused as error:
        preview.problems = error.problems
    except ImportFailed as error:
        preview.problems = error.result.problems
    return preview


def stash(request: HttpRequest, *, preview: ImportPreview, content: bytes) -> str:
    """Keep a dry-run file in the session until it is imported; returns the token naming it."""
    token = secrets.token_urlsafe(16)
    stashed = dict(request.session.get(SESSION_KEY, {}))
    while len(stashed) >= MAX_STASHED:
        stashed.pop(next(iter(stashed)))
    stashed[token] = {
        "content": base64.b64encode(content).decode("ascii"),
        "filename": preview.filename[:200],
        "format": preview.file_format,
        "create_domains": preview.create_domains,
    }
    request.session[SESSION_KEY] = stashed
    return token


def unstash(request: HttpRequest, *, token: str) -> dict[str, Any] | None:
    """Take a stashed file out of the session (once), or None if unknown or expired."""
    stashed = dict(request.session.get(SESSION_KEY, {}))
    entry = stashed.pop(token, None)
    if entry is None or entry.get("format") not in FORMATS:
        return None
    request.session[SESSION_KEY] = stashed
    return {**entry, "content": base64.b64decode(entry["content"])}
