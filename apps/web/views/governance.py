"""The governance lead's pages: run an evaluation, tune the policies with a preview, the retirement board.

Writes call the owning services (valuation's policies and runs, catalog's lifecycle, governance's
decisions). Only governance leads (and admins) may open these pages: anyone else gets the styled 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.auth import request_user
from apps.accounts.roles import Role
from apps.catalog.models import DataProduct, Domain, Lifecycle
from apps.catalog.services import data_product_retire_now, data_product_update
from apps.governance.services import retirement_cancel
from apps.valuation.models import EvaluationPolicy
from apps.valuation.selectors import policy_of
from apps.valuation.services import evaluation_run_start, policy_create, policy_update
from apps.web.access import role_required
from apps.web.forms import PolicyForm, RetirementCancelForm, SunsetPushForm, service_errors_add
from apps.web.selectors.governance import (
    RETIREMENT_USAGE_DAYS,
    policy_preview,
    policy_rows,
    recent_runs,
    retirement_board,
)

governance_required = role_required(Role.GOVERNANCE_LEAD)


@governance_required
@require_POST
def evaluation_run_view(request: HttpRequest) -> HttpResponse:
    """Queue an evaluation of the portfolio as of today; a worker runs it (the demo's too)."""
    run = evaluation_run_start(requested_by=request_user(request), trigger="web")
    messages.success(request, f"Evaluation run {run.pk} as of {run.as_of:%-d %b %Y} is queued; its status is below.")
    return redirect(reverse("policies") + "#runs")


@governance_required
@require_GET
def policy_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "web/policies.html", {"rows": policy_rows(), "runs": recent_runs()})


def _policy_target(key: str) -> tuple[Domain | None, EvaluationPolicy | None, EvaluationPolicy]:
    """The domain named by `key` ("default": none), its own policy if any, and the policy to start from."""
    default = EvaluationPolicy.objects.filter(is_default=True).first()
    if default is None:
        raise Http404("There is no default policy yet.")
    if key == "default":
        return None, default, default
    domain = get_object_or_404(Domain, slug=key)
    own = EvaluationPolicy.objects.filter(domain=domain).first()
    return domain, own, own or default


@governance_required
@require_http_methods(["GET", "POST"])
def policy_edit_view(request: HttpRequest, key: str) -> HttpResponse:
    """Edit a policy; "Preview" shows what would change at the latest evaluation, "Save" stores it."""
    domain, own, start = _policy_target(key)
    initial = {name: getattr(start, name) for name in PolicyForm.FIELDS}
    form = PolicyForm(request.POST or None, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in PolicyForm.FIELDS}
        if request.POST.get("action") == "save":
            try:
                if own is not None:
                    policy_update(policy=own, **fields)
                else:
                    policy_create(domain=domain, **fields)
            except ValidationError as error:
                service_errors_add(form, error)
            else:
                label = "the default policy" if domain is None else f"the policy of {domain.name}"
                messages.success(request, f"Saved {label}; the next evaluation uses it.")
                return redirect("policies")
        else:
            candidate = EvaluationPolicy(**fields)
            preview = policy_preview(domain_id=domain.pk if domain else None, policy=policy_of(candidate))
    status = 400 if request.method == "POST" and form.errors else 200
    return render(
        request,
        "web/policy_form.html",
        {"form": form, "domain": domain, "own": own, "key": key, "preview": preview},
        status=status,
    )


# --- the retirement board --------------------------------------------------------------------


def _board(request: HttpRequest, *, status: int = 200, bound: dict | None = None) -> HttpResponse:
    today = timezone.localdate()
    rows = retirement_board(today=today)
    bound = bound or {}
    cards = [
        {
            "row": row,
            "push_form": bound.get((row.product.pk, "push"))
            or SunsetPushForm(auto_id=f"p{row.product.pk}-%s", today=today),
            "cancel_form": bound.get((row.product.pk, "cancel"))
            or RetirementCancelForm(auto_id=f"p{row.product.pk}-%s"),
        }
        for row in rows
    ]
    return render(
        request,
        "web/retirements.html",
        {"cards": cards, "today": today, "usage_days": RETIREMENT_USAGE_DAYS},
        status=status,
    )


@governance_required
@require_GET
def retirement_board_view(request: HttpRequest) -> HttpResponse:
    return _board(request)


@governance_required
@require_POST
def retirement_action_view(request: HttpRequest, slug: str) -> HttpResponse:
    """Push the sunset date, confirm the retirement now, or cancel it with a rationale."""
    product = get_object_or_404(DataProduct, slug=slug, lifecycle=Lifecycle.DEPRECATED)
    today = timezone.localdate()
    action = request.POST.get("action", "")
    if action == "push":
        form = SunsetPushForm(request.POST, auto_id=f"p{product.pk}-%s", today=today)
        if form.is_valid():
            try:
                data_product_update(data_product=product, sunset_on=form.cleaned_data["sunset_on"])
            except ValidationError as error:
                service_errors_add(form, error)
            else:
                messages.success(request, f"{product.name} now retires on {form.cleaned_data['sunset_on']:%-d %b %Y}.")
                return redirect("retirements")
        return _board(request, status=400, bound={(product.pk, "push"): form})
    if action == "retire":
        try:
            data_product_retire_now(data_product=product, on=today)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Retired {product.name} today.")
        return redirect("retirements")
    if action == "cancel":
        cancel_form = RetirementCancelForm(request.POST, auto_id=f"p{product.pk}-%s")
        if cancel_form.is_valid():
            try:
                retirement_cancel(
                    data_product=product, user=request_user(request), rationale=cancel_form.cleaned_data["rationale"]
                )
            except ValidationError as error:
                service_errors_add(cancel_form, error)
            else:
                messages.success(request, f"Cancelled the retirement of {product.name}; it is active again.")
                return redirect("retirements")
        return _board(request, status=400, bound={(product.pk, "cancel"): cancel_form})
    messages.error(request, "Choose an action: push the sunset date, retire now, or cancel the retirement.")
    return redirect("retirements")
