"""Browser pages of cloud-bill imports and allocation rules (governance leads and admins; others get 403).

The import page uploads a FOCUS export (a worker imports it), then polls the import's progress
with htmx until its result is there. The rules page writes and orders allocation rules, and
previews what the last import would allocate with a rule before it is saved.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.auth import request_user
from apps.accounts.roles import Role, has_role
from apps.costs import rules as rule_services
from apps.costs import selectors
from apps.costs.focus import FocusError
from apps.costs.forms import AllocationRuleForm, BillUploadForm
from apps.costs.imports import (
    cost_import_create,
    cost_import_preview,
    cost_import_reapply,
    import_directory,
    rules_current,
)
from apps.costs.models import AllocationRule, CostImport, CostImportStatus

BILL_SUFFIXES = (".csv", ".csv.gz", ".parquet")


def governance_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not has_role(request.user, Role.GOVERNANCE_LEAD):
            raise PermissionDenied("Your role does not give access to this page.")
        return view(request, *args, **kwargs)

    return wrapped


@governance_required
def import_list(request: HttpRequest) -> HttpResponse:
    """Upload a bill; the imports so far."""
    form = BillUploadForm()
    if request.method == "POST":
        form = BillUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            name = Path(upload.name or "bill.csv").name
            if not name.lower().endswith(BILL_SUFFIXES):
                form.add_error("file", f"Upload a FOCUS export ending in {', '.join(BILL_SUFFIXES)}.")
            else:
                target = import_directory() / f"{uuid.uuid4().hex}-{name[-120:]}"
                with open(target, "wb") as out:
                    for chunk in upload.chunks():
                        out.write(chunk)
                cost_import = cost_import_create(file_name=name, file_path=target, created_by=request_user(request))
                return redirect("cost_import_detail", pk=cost_import.pk)
    imports = selectors.cost_import_list()[:20]
    return render(request, "costs/imports.html", {"form": form, "imports": imports}, status=400 if form.errors else 200)


def _detail_context(cost_import: CostImport) -> dict:
    return {
        "cost_import": cost_import,
        "done": cost_import.status in (CostImportStatus.SUCCEEDED, CostImportStatus.FAILED),
        "result": cost_import.result or {},
    }


@governance_required
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cost_import = get_object_or_404(CostImport, pk=pk)
    return render(request, "costs/import_detail.html", _detail_context(cost_import))


@governance_required
@require_GET
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar (polled by htmx every second), then the result once the import is done."""
    cost_import = get_object_or_404(CostImport, pk=pk)
    return render(request, "costs/partials/import_status.html", _detail_context(cost_import))


@governance_required
@require_POST
def import_reapply(request: HttpRequest, pk: int) -> HttpResponse:
    cost_import = get_object_or_404(CostImport, pk=pk, status=CostImportStatus.SUCCEEDED)
    try:
        cost_import = cost_import_reapply(cost_import=cost_import)
    except FocusError as error:
        messages.error(request, " ".join(error.errors))
    else:
        created = cost_import.result.get("revisions_created", 0)
        messages.success(request, f"Rules re-applied: {created} cost revision(s) written.")
    return redirect("cost_import_detail", pk=pk)


def _rules_page(request: HttpRequest, form: AllocationRuleForm, *, status: int = 200) -> HttpResponse:
    return render(
        request,
        "costs/rules.html",
        {"form": form, "rules": selectors.allocation_rule_list().prefetch_related("targets__data_product")},
        status=status,
    )


@governance_required
def rule_list(request: HttpRequest) -> HttpResponse:
    """The rules in order; a form to add one (with a preview before saving)."""
    if request.method != "POST":
        return _rules_page(request, AllocationRuleForm())
    form = AllocationRuleForm(request.POST)
    if form.is_valid():
        try:
            rule = rule_services.allocation_rule_create(targets=form.cleaned_data["targets"], **form.rule_fields())
        except ValidationError as error:
            for field, field_messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, field_messages)
        else:
            messages.success(request, f"Rule {rule.name!r} saved at position {rule.position}.")
            return redirect("allocation_rules")
    return _rules_page(request, form, status=400)


@governance_required
@require_POST
def rule_preview(request: HttpRequest) -> HttpResponse:
    """What the last import would allocate with the stored rules plus the one in the form (nothing saved)."""
    form = AllocationRuleForm(request.POST)
    context: dict = {"form": form}
    if form.is_valid():
        fields = form.rule_fields()
        stored = rules_current()
        fields.setdefault("position", max((r.position for r in stored), default=0) + 1)
        candidate = rule_services.rule_value(fields=fields, targets=form.cleaned_data["targets"])
        from apps.costs.allocation import rule_errors

        errors = rule_errors(candidate)
        if errors:
            context["errors"] = list(errors.values())
        else:
            # The candidate goes in at its position; stored rules at or after it move down one.
            moved = [r if r.position < candidate.position else _shifted(r) for r in stored]
            context["preview"] = cost_import_preview(rules=[*moved, candidate])
            context["current"] = cost_import_preview(rules=stored)
    else:
        context["errors"] = [f"{name}: {' '.join(str(e) for e in errs)}" for name, errs in form.errors.items()]
    return render(request, "costs/partials/rule_preview.html", context)


def _shifted(rule):
    from dataclasses import replace

    return replace(rule, position=rule.position + 1)


@governance_required
@require_POST
def rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a rule one place up or down in the order."""
    ordered = list(AllocationRule.objects.order_by("position", "id").values_list("pk", flat=True))
    if pk in ordered:
        index = ordered.index(pk)
        other = index - 1 if request.POST.get("direction") == "up" else index + 1
        if 0 <= other < len(ordered):
            ordered[index], ordered[other] = ordered[other], ordered[index]
            rule_services.allocation_rules_reorder(rule_ids=ordered)
    return redirect("allocation_rules")


@governance_required
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(AllocationRule, pk=pk)
    rule_services.allocation_rule_delete(rule=rule)
    messages.success(request, f"Rule {rule.name!r} deleted.")
    return redirect("allocation_rules")
