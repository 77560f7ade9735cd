"""The product owner's workspace: my products, logging outcomes (form and CSV), recording costs."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import slug_re
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.auth import request_user
from apps.accounts.roles import Role
from apps.costs.services import cost_record
from apps.kpis.models import KPI, MeasurementSource
from apps.kpis.services import measurement_record
from apps.web import csv_upload as uploads
from apps.web.access import role_required
from apps.web.forms import CostForm, CsvUploadForm, OutcomeForm, service_errors_add
from apps.web.selectors.workspace import (
    cost_months,
    cost_products,
    loggable_kpis,
    workspace_product_list,
    workspace_products,
)

workspace_required = role_required(Role.PRODUCT_OWNER)


def _selected_kpi(request: HttpRequest, kpis, raw: str | None) -> KPI | None:
    """The KPI picked in the form, if it is one the user may log for (else none: no periods offered)."""
    if not raw or not str(raw).isdigit():
        return None
    return kpis.filter(pk=int(raw)).first()


def _outcome_form(request: HttpRequest, data=None, initial=None) -> OutcomeForm:
    kpis = loggable_kpis(request_user(request))
    raw_kpi = (data or {}).get("kpi") or (initial or {}).get("kpi")
    return OutcomeForm(
        data,
        initial=initial,
        kpis=kpis,
        today=timezone.localdate(),
        selected_kpi=_selected_kpi(request, kpis, raw_kpi),
    )


def _cost_form(request: HttpRequest, data=None, initial=None) -> CostForm:
    return CostForm(
        data,
        initial=initial,
        products=cost_products(request_user(request)),
        months=cost_months(today=timezone.localdate()),
    )


def _render_workspace(request: HttpRequest, *, status: int = 200, **forms) -> HttpResponse:
    """The workspace page; bound forms passed in `forms` replace the fresh ones (to show their errors)."""
    initial_product = None
    # `?kpi=` comes from the "Show its periods" button that stands in for htmx without JavaScript.
    raw_kpi = request.GET.get("kpi", "")
    initial_kpi = int(raw_kpi) if raw_kpi.isdigit() and len(raw_kpi) < 19 else None
    slug = request.GET.get("product", "")
    # Only a well-formed slug reaches the database (a NUL byte would make PostgreSQL refuse the query).
    if slug and slug_re.fullmatch(slug):
        initial_product = workspace_product_list(request_user(request)).filter(slug=slug).first()
        if initial_product is not None and initial_kpi is None:
            initial_kpi = (
                KPI.objects.filter(attributions__data_product=initial_product)
                .order_by("name")
                .values_list("pk", flat=True)
                .first()
            )
    context = {
        "owned": workspace_products(user=request_user(request), as_of=timezone.localdate()),
        "outcome_form": forms.get("outcome_form")
        or _outcome_form(request, initial={"kpi": initial_kpi} if initial_kpi else None),
        "cost_form": forms.get("cost_form")
        or _cost_form(request, initial={"data_product": initial_product} if initial_product else None),
        "upload_form": forms.get("upload_form") or CsvUploadForm(),
        "upload_errors": forms.get("upload_errors"),
        "preview": forms.get("preview"),
        "currency_code": uploads.currency(),
        "csv_columns": uploads.COLUMNS_HELP,
    }
    return render(request, "web/workspace.html", context, status=status)


@workspace_required
@require_GET
def workspace(request: HttpRequest) -> HttpResponse:
    return _render_workspace(request)


@workspace_required
@require_GET
def outcome_periods(request: HttpRequest) -> HttpResponse:
    """The period field for the KPI picked in the outcome form (htmx swaps it in)."""
    form = _outcome_form(
        request, initial={"kpi": request.GET.get("kpi"), "period_start": request.GET.get("period_start")}
    )
    return render(request, "web/partials/period_field.html", {"form": form})


@workspace_required
@require_POST
def outcome_log(request: HttpRequest) -> HttpResponse:
    """Log one outcome through the same service as the API; errors come back beside their fields."""
    form = _outcome_form(request, data=request.POST)
    if form.is_valid():
        kpi = form.cleaned_data["kpi"]
        option = form.selected_period()
        try:
            measurement = measurement_record(
                kpi=kpi,
                period_start=form.cleaned_data["period_start"],
                value=form.cleaned_data["value"],
                note=form.cleaned_data["note"],
                source=MeasurementSource.FORM,
                recorded_by=request_user(request),
            )
        except ValidationError as error:
            service_errors_add(form, error)
        else:
            label = option.label if option else measurement.period_start.isoformat()
            if measurement.revision > 1:
                messages.success(
                    request,
                    f"Corrected {kpi.name} for {label}: {measurement.value.normalize():f} {kpi.unit} replaces "
                    f"{option.current_value.normalize():f} (revision {measurement.revision}, history kept)."
                    if option and option.current_value is not None
                    else f"Corrected {kpi.name} for {label} (revision {measurement.revision}).",
                    extra_tags="log-outcome",
                )
            else:
                messages.success(
                    request,
                    f"Logged {measurement.value.normalize():f} {kpi.unit} for {kpi.name}, {label}.",
                    extra_tags="log-outcome",
                )
            return redirect(f"{reverse('workspace')}#log-outcome")
    return _render_workspace(request, outcome_form=form)


@workspace_required
@require_POST
def cost_record_view(request: HttpRequest) -> HttpResponse:
    """Record one month's cost of one of my products through the costs service."""
    form = _cost_form(request, data=request.POST)
    if form.is_valid():
        try:
            entry = cost_record(
                data_product=form.cleaned_data["data_product"],
                period_start=form.cleaned_data["period_start"],
                amount=form.cleaned_data["amount"],
                category=form.cleaned_data["category"],
                note=form.cleaned_data["note"],
                recorded_by=request_user(request),
            )
        except ValidationError as error:
            service_errors_add(form, error)
        else:
            messages.success(
                request,
                f"Recorded {entry.amount:,.2f} {entry.currency} of {entry.get_category_display().lower()} cost "
                f"for {entry.data_product.name}, {entry.period_start:%B %Y}.",
                extra_tags="record-cost",
            )
            return redirect(f"{reverse('workspace')}#record-cost")
    return _render_workspace(request, cost_form=form)


@workspace_required
@require_POST
def csv_upload(request: HttpRequest) -> HttpResponse:
    """Check an uploaded CSV of outcomes and preview it; nothing is stored until it is confirmed."""
    form = CsvUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_workspace(request, upload_form=form)
    content = form.cleaned_data["file"].read()
    result = uploads.check(content=content, user=request_user(request))
    if result.errors:
        return _render_workspace(request, upload_form=form, upload_errors=result)
    token = uploads.stash(request, content=content, filename=form.cleaned_data["file"].name)
    return _render_workspace(
        request, preview={"token": token, "result": result, "filename": form.cleaned_data["file"].name}
    )


@workspace_required
@require_POST
def csv_confirm(request: HttpRequest) -> HttpResponse:
    """Store a previewed CSV: checked again (things may have changed since), then all rows or none."""
    stashed = uploads.unstash(request, token=request.POST.get("token", ""))
    if stashed is None:
        messages.error(
            request, "That upload has expired or was already stored. Upload the file again.", extra_tags="upload"
        )
        return redirect(f"{reverse('workspace')}#upload")
    content, filename = stashed
    stored = uploads.store(content=content, user=request_user(request))
    if stored.errors:
        return _render_workspace(request, upload_errors=stored)
    messages.success(
        request,
        f"Stored {len(stored.rows)} outcome{'s' if len(stored.rows) != 1 else ''} from {filename}"
        f"{f', {stored.corrections} of them corrections' if stored.corrections else ''}.",
        extra_tags="upload",
    )
    return redirect(f"{reverse('workspace')}#upload")
