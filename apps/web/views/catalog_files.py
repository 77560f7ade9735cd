"""The catalog page: download the catalog as Bitol or ODPS 4 files; governance leads and admins import files."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.roles import Role, has_role
from apps.interchange.api.views import zip_response
from apps.interchange.exports import products_export
from apps.web import catalog_files
from apps.web.access import role_required


def _may_import(request: HttpRequest) -> bool:
    return has_role(request.user, Role.GOVERNANCE_LEAD)  # staff hold every role


def _render(request: HttpRequest, *, status: int = 200, **context) -> HttpResponse:
    context.setdefault("export_form", catalog_files.CatalogExportForm())
    if _may_import(request):
        context.setdefault("import_form", catalog_files.CatalogImportForm())
    return render(
        request,
        "web/catalog_files.html",
        {"can_import": _may_import(request), **context},
        status=status,
    )


@role_required(*Role)
@require_GET
def catalog_files_page(request: HttpRequest) -> HttpResponse:
    return _render(request)


@role_required(*Role)
@require_GET
def catalog_export(request: HttpRequest) -> HttpResponse:
    """A zip of one `<slug>.yaml` per product, filtered like the API's `data-products/export/`."""
    form = catalog_files.CatalogExportForm(request.GET)
    if not form.is_valid():
        return _render(request, export_form=form, status=400)
    data = form.cleaned_data
    files = products_export(
        file_format=data["format"],
        domain_slug=data["domain"] or None,
        lifecycle=data["lifecycle"] or None,
        decided_since=data["decided_since"],
    )
    return zip_response(files, data["format"])


@role_required(*Role)
@require_POST
def catalog_import_preview(request: HttpRequest) -> HttpResponse:
    """Dry-run an uploaded file and show what an import would do; nothing is stored."""
    if not _may_import(request):
        raise PermissionDenied("Only governance leads and administrators import catalog files.")
    form = catalog_files.CatalogImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, import_form=form, status=400)
    upload = form.cleaned_data["file"]
    content = upload.read()
    preview = catalog_files.run(
        filename=upload.name,
        content=content,
        file_format=form.cleaned_data["format"],
        create_domains=form.cleaned_data["create_domains"],
        dry_run=True,
    )
    if preview.result is not None:
        preview.token = catalog_files.stash(request, preview=preview, content=content)
    return _render(request, import_form=form, preview=preview, status=200 if preview.result else 400)


@role_required(*Role)
@require_POST
def catalog_import_confirm(request: HttpRequest) -> HttpResponse:
    """Import a previewed file for real: read and checked again, then all of it or nothing."""
    if not _may_import(request):
        raise PermissionDenied("Only governance leads and administrators import catalog files.")
    stashed = catalog_files.unstash(request, token=request.POST.get("token", ""))
    if stashed is None:
        messages.error(request, "That preview has expired or was already imported. Upload the file again.")
        return redirect(f"{reverse('catalog_files')}#import")
    preview = catalog_files.run(
        filename=stashed["filename"],
        content=stashed["content"],
        file_format=stashed["format"],
        create_domains=stashed["create_domains"],
        dry_run=False,
    )
    if preview.result is None:
        return _render(request, preview=preview, status=400)
    counts = preview.result.counts
    messages.success(
        request,
        f"Imported {stashed['filename']}: {counts['created']} created, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged, {counts['skipped']} skipped.",
    )
    return _render(request, preview=preview, imported=True)
