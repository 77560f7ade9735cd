"""The page of one KPI: its outcomes, its data source and query, and the history of its pulls.

Everyone with a role reads it, the query included. The owner of a product the KPI is attributed
to, a governance lead or an admin chooses the source, writes the query, presses Test (htmx: the
rows it would store, with corrections and refusals marked; nothing stored) and saves.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.auth import request_user
from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.core.api import access
from apps.kpis.models import KPI
from apps.kpis.services import kpi_update
from apps.sources.checking import RowStatus
from apps.sources.selectors import data_source_list, kpi_pull_runs
from apps.sources.services import QueryPreview, query_preview
from apps.web.access import role_required
from apps.web.forms import KpiSourceForm, service_errors_add
from apps.web.htmx import HtmxHttpRequest
from apps.web.selectors.history import kpi_history

RECENT_OUTCOMES = 12


def _may_set_source(user: User, kpi: KPI) -> bool:
    return not access.forbidden_ids(KPI, [kpi.pk], user, access.SET_KPI_SOURCE)


def _kpi(pk: int) -> KPI:
    return get_object_or_404(KPI.objects.select_related("goal", "source"), pk=pk)


def _form(kpi: KPI, data=None) -> KpiSourceForm:
    initial = {"source": kpi.source_id, "source_query": kpi.source_query}
    return KpiSourceForm(data, initial=initial, sources=data_source_list())


def _preview_context(preview: QueryPreview | None) -> dict:
    if preview is None:
        return {"preview": None}
    return {"preview": preview, "counts": {status.value: preview.count(status) for status in RowStatus}}


def _render(request: HttpRequest, kpi: KPI, *, form: KpiSourceForm | None = None, status: int = 200, **extra):
    context = {
        "kpi": kpi,
        "attributions": kpi.attributions.select_related("data_product").order_by("data_product__name"),
        "outcomes": kpi.measurements.filter(is_current=True).select_related("recorded_by")[:RECENT_OUTCOMES],
        "runs": kpi_pull_runs(kpi_id=kpi.pk),
        "can_set_source": _may_set_source(request_user(request), kpi),
        "form": form or _form(kpi),
        "preview": None,
        # The audit trail of the KPI and its attributions, and every outcome revision it links to.
        "audit_entries": kpi_history(kpi=kpi),
        "revisions": kpi.measurements.select_related("recorded_by").order_by("-period_start", "-revision")[:200],
        **extra,
    }
    return render(request, "web/kpi_detail.html", context, status=status)


@role_required(*Role)
def kpi_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render(request, _kpi(pk))


@require_POST
@role_required(*Role)
def kpi_source_test(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Run the query in the form on the chosen source, read-only, and show what it would store."""
    kpi = _kpi(pk)
    if not _may_set_source(request_user(request), kpi):
        raise PermissionDenied("You may not set the source of this KPI.")
    form = _form(kpi, request.POST)
    preview = None
    if form.is_valid():
        source, query = form.cleaned_data["source"], form.cleaned_data["source_query"]
        if source is None:
            form.add_error("source", "Choose the source to run the query on.")
        elif not query:
            form.add_error("source_query", "Write the query that returns period_start, value.")
        else:
            preview = query_preview(source=source, kpi=kpi, query=query)
    context = {"kpi": kpi, "form": form, **_preview_context(preview)}
    if request.htmx:
        return render(request, "web/partials/source_preview.html", context)
    return _render(request, kpi, form=form, **_preview_context(preview))


@require_POST
@role_required(*Role)
def kpi_source_save(request: HttpRequest, pk: int) -> HttpResponse:
    kpi = _kpi(pk)
    if not _may_set_source(request_user(request), kpi):
        raise PermissionDenied("You may not set the source of this KPI.")
    form = _form(kpi, request.POST)
    if form.is_valid():
        try:
            kpi_update(kpi=kpi, source=form.cleaned_data["source"], source_query=form.cleaned_data["source_query"])
        except ValidationError as error:
            service_errors_add(form, error)
        else:
            source = form.cleaned_data["source"]
            messages.success(
                request,
                f"{kpi.name} is now pulled from {source.name} on its schedule."
                if source
                else f"{kpi.name} has no source any more; its outcomes are typed in.",
            )
            return redirect(reverse("kpi_detail", args=[kpi.pk]) + "#source")
    return _render(request, _kpi(pk), form=form, status=400)
