"""The product owner's pages: register and edit a product, its KPIs, bets, cost corrections, shortcuts.

Each write calls the owning app's service (catalog, kpis, bets, costs); the rules and their
messages are the services', shown beside the fields. Only the product's owner (and admins) may
open these pages for a product: anyone else gets the styled 403 page, before any input is read.
After a save the browser goes to the page that shows the result, with the message at its top.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.auth import request_user
from apps.accounts.roles import Role, has_role, is_admin
from apps.bets.services import bet_create
from apps.catalog.models import ConsciousDebt, DataProduct
from apps.catalog.services import data_product_create, data_product_update, debt_record, debt_resolve, debt_update
from apps.costs.models import CostEntry, CostSource
from apps.costs.services import cost_update
from apps.kpis.services import attribution_link, kpi_create
from apps.web.access import role_required
from apps.web.forms import (
    BetForm,
    CostCorrectForm,
    DebtForm,
    DebtResolveForm,
    KpiCreateForm,
    KpiLinkForm,
    ProductForm,
    service_errors_add,
)
from apps.web.selectors.owner import (
    COST_MONTHS_SHOWN,
    linkable_kpis,
    product_costs_page,
    product_debts,
    product_form_choices,
    product_kpis_page,
    proposed_baseline,
)
from meshvalue.periods import add_months

owner_required = role_required(Role.PRODUCT_OWNER)


def _own_product(request: HttpRequest, slug: str) -> DataProduct:
    """The product named by `slug` if the user owns it (admins: any); 404 if none, 403 if not theirs."""
    product = get_object_or_404(DataProduct.objects.select_related("domain", "owner"), slug=slug)
    owner = product.owner_id == request.user.pk and has_role(request.user, Role.PRODUCT_OWNER)
    if not (owner or is_admin(request.user)):
        raise PermissionDenied(f"{product.name} is owned by {product.owner}; only its owner may change it.")
    return product


def _product_page(product: DataProduct, anchor: str = "") -> HttpResponse:
    return redirect(reverse("product_detail", args=[product.slug]) + (f"#{anchor}" if anchor else ""))


# --- registering and editing -----------------------------------------------------------------


@owner_required
@require_http_methods(["GET", "POST"])
def product_create_view(request: HttpRequest) -> HttpResponse:
    domains, goals = product_form_choices()
    form = ProductForm(request.POST or None, domains=domains, goals=goals)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            product = data_product_create(
                name=data["name"],
                slug=data["slug"],
                domain=data["domain"],
                owner=request_user(request),
                description=data["description"],
                lifecycle=data["lifecycle"],
                launched_on=data["launched_on"],
                goals=list(data["goals"]),
            )
        except ValidationError as error:
            service_errors_add(form, error)
        else:
            messages.success(
                request,
                f"Registered {product.name} as {product.get_lifecycle_display().lower()}. "
                "Next: link it to a KPI so that its value can be measured.",
            )
            return _product_page(product)
    return render(request, "web/product_form.html", {"form": form, "product": None})


@owner_required
@require_http_methods(["GET", "POST"])
def product_edit_view(request: HttpRequest, slug: str) -> HttpResponse:
    product = _own_product(request, slug)
    domains, goals = product_form_choices()
    initial = {
        "name": product.name,
        "slug": product.slug,
        "domain": product.domain,
        "description": product.description,
        "launched_on": product.launched_on,
        "goals": list(product.goals.all()),
    }
    form = ProductForm(request.POST or None, initial=initial, domains=domains, goals=goals, editing=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            product = data_product_update(
                data_product=product,
                name=data["name"],
                slug=data["slug"] or product.slug,
                domain=data["domain"],
                description=data["description"],
                launched_on=data["launched_on"],
                goals=list(data["goals"]),
            )
        except ValidationError as error:
            service_errors_add(form, error)
        else:
            messages.success(request, f"Saved {product.name}.")
            return _product_page(product)
    return render(request, "web/product_form.html", {"form": form, "product": product})


# --- KPIs ------------------------------------------------------------------------------------


def _kpis_context(product: DataProduct, *, link_form: KpiLinkForm, create_form: KpiCreateForm) -> dict:
    selected = link_form["kpi"].value()
    kpi = linkable_kpis().filter(pk=selected).first() if str(selected or "").isdigit() else None
    return {
        "product": product,
        "link_form": link_form,
        "create_form": create_form,
        "proposed": proposed_baseline(kpi),
        **product_kpis_page(product=product),
    }


def _link_form(request: HttpRequest, data=None) -> KpiLinkForm:
    initial = {"kpi": request.GET.get("kpi")} if request.GET.get("kpi", "").isdigit() else None
    return KpiLinkForm(data, initial=initial, kpis=linkable_kpis())


def _with_proposed_baseline(form: KpiLinkForm) -> KpiLinkForm:
    """An unbound link form for a chosen KPI gets its latest outcome as the initial baseline."""
    selected = form["kpi"].value()
    if not form.is_bound and str(selected or "").isdigit():
        proposed = proposed_baseline(linkable_kpis().filter(pk=selected).first())
        if proposed is not None:
            form.initial["baseline"] = f"{proposed.value.normalize():f}"
    return form


@owner_required
@require_GET
def product_kpis_view(request: HttpRequest, slug: str) -> HttpResponse:
    product = _own_product(request, slug)
    link_form = _with_proposed_baseline(_link_form(request))
    create_form = KpiCreateForm(goals=product.goals.order_by("name"), initial={"starts_on": product.launched_on})
    return render(
        request, "web/product_kpis.html", _kpis_context(product, link_form=link_form, create_form=create_form)
    )


@owner_required
@require_GET
def product_kpi_baseline(request: HttpRequest, slug: str) -> HttpResponse:
    """The baseline field for the KPI picked in the link form (htmx swaps it in), proposing its latest outcome."""
    product = _own_product(request, slug)
    form = _with_proposed_baseline(_link_form(request))
    selected = form["kpi"].value()
    kpi = linkable_kpis().filter(pk=selected).first() if str(selected or "").isdigit() else None
    return render(
        request,
        "web/partials/baseline_field.html",
        {"product": product, "link_form": form, "proposed": proposed_baseline(kpi)},
    )


@owner_required
@require_POST
def product_kpi_link(request: HttpRequest, slug: str) -> HttpResponse:
    product = _own_product(request, slug)
    form = KpiLinkForm(request.POST, kpis=linkable_kpis())
    if form.is_valid():
        data = form.cleaned_data
        try:
            attribution = attribution_link(
                kpi=data["kpi"],
                data_product=product,
                weight=data["weight"],
                starts_on=data["starts_on"],
                baseline=data["baseline"],
            )
        except ValidationError as error:
            service_errors_add(form, _weights_on_field(error))
        else:
            messages.success(
                request,
                f"Linked {attribution.kpi.name} to {product.name} with weight {attribution.weight.normalize():f}.",
            )
            return _product_page(product, "kpis-title")
    create_form = KpiCreateForm(goals=product.goals.order_by("name"))
    return render(
        request,
        "web/product_kpis.html",
        _kpis_context(product, link_form=form, create_form=create_form),
        status=400,
    )


def _weights_on_field(error: ValidationError) -> ValidationError:
    """The attribution service names its weight errors `attributions`; on this page they belong to the weight."""
    if hasattr(error, "error_dict") and "attributions" in error.error_dict:
        errors = dict(error.message_dict)
        errors["weight"] = errors.pop("attributions")
        return ValidationError(errors)
    return error


@owner_required
@require_POST
def product_kpi_create(request: HttpRequest, slug: str) -> HttpResponse:
    product = _own_product(request, slug)
    form = KpiCreateForm(request.POST, goals=product.goals.order_by("name"))
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():  # the KPI and its attribution, or neither
                kpi = kpi_create(
                    goal=data["goal"],
                    name=data["name"],
                    unit=data["unit"],
                    direction=data["direction"],
                    cadence=data["cadence"],
                    baseline=data["kpi_baseline"],
                    target=data["target"],
                    value_per_unit=data["value_per_unit"],
                )
                attribution_link(kpi=kpi, data_product=product, weight=data["weight"], starts_on=data["starts_on"])
        except ValidationError as error:
            errors = _weights_on_field(error)
            if hasattr(errors, "error_dict") and "baseline" in errors.error_dict:
                errors = ValidationError({**errors.message_dict, "kpi_baseline": errors.message_dict["baseline"]})
            service_errors_add(form, errors)
        else:
            messages.success(request, f"Created {kpi.name} and credited {product.name} with it.")
            return _product_page(product, "kpis-title")
    return render(
        request,
        "web/product_kpis.html",
        _kpis_context(product, link_form=KpiLinkForm(kpis=linkable_kpis()), create_form=form),
        status=400,
    )


# --- bets ------------------------------------------------------------------------------------


@owner_required
@require_http_methods(["GET", "POST"])
def product_bet_create(request: HttpRequest, slug: str) -> HttpResponse:
    product = _own_product(request, slug)
    today = timezone.localdate()
    form = BetForm(
        request.POST or None,
        goals=product.goals.order_by("name"),
        initial={"opens_on": today, "review_on": add_months(today, 12)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            bet = bet_create(data_product=product, created_by=request_user(request), **form.cleaned_data)
        except ValidationError as error:
            service_errors_add(form, error)
        else:
            messages.success(request, f"Placed the bet on {product.name}; it is reviewed on {bet.review_on:%-d %b %Y}.")
            return _product_page(product, "bets-title")
    return render(request, "web/bet_form.html", {"product": product, "form": form})


# --- costs -----------------------------------------------------------------------------------


def _costs_context(product: DataProduct, *, bound: CostCorrectForm | None = None) -> dict:
    since = add_months(timezone.localdate().replace(day=1), -COST_MONTHS_SHOWN)
    lines = product_costs_page(product=product, since=since)
    bound_entry = bound["entry"].value() if bound is not None else None
    rows = [
        {
            "line": line,
            "form": bound
            if bound is not None and str(bound_entry) == str(line.current.pk)
            else {"amount": {"value": line.current.amount}, "note": {"value": ""}},
        }
        for line in lines
    ]
    return {"product": product, "rows": rows, "months_shown": COST_MONTHS_SHOWN}


@owner_required
@require_GET
def product_costs_view(request: HttpRequest, slug: str) -> HttpResponse:
    product = _own_product(request, slug)
    return render(request, "web/product_costs.html", _costs_context(product))


@owner_required
@require_POST
def product_cost_correct(request: HttpRequest, slug: str) -> HttpResponse:
    product = _own_product(request, slug)
    raw_entry = request.POST.get("entry", "")
    form = CostCorrectForm(request.POST, auto_id=f"cost{raw_entry if raw_entry.isdigit() else 'x'}-%s")
    if form.is_valid():
        entry = CostEntry.objects.filter(pk=form.cleaned_data["entry"], data_product=product).first()
        if entry is None:
            raise PermissionDenied("That cost line is not one of this product's.")
        previous = entry.amount
        try:
            corrected = cost_update(
                cost_entry=entry,
                source=CostSource.FORM,
                recorded_by=request_user(request),
                amount=form.cleaned_data["amount"],
                note=form.cleaned_data["note"] or entry.note,
            )
        except ValidationError as error:
            service_errors_add(form, error)
        else:
            messages.success(
                request,
                f"Corrected {corrected.get_category_display().lower()} cost of {corrected.period_start:%B %Y}: "
                f"{corrected.amount:,.2f} {corrected.currency} replaces {previous:,.2f}.",
            )
            return redirect(reverse("product_costs", args=[product.slug]))
    return render(request, "web/product_costs.html", _costs_context(product, bound=form), status=400)


# --- conscious shortcuts ---------------------------------------------------------------------


def _debts_context(product: DataProduct, *, form: DebtForm | None = None, **bound) -> dict:
    today = timezone.localdate()
    return {
        "product": product,
        "today": today,
        "form": form or DebtForm(initial={"revisit_on": today + timedelta(days=90)}),
        "bound": bound,
        **product_debts(product=product),
    }


@owner_required
@require_GET
def product_debts_view(request: HttpRequest, slug: str) -> HttpResponse:
    product = _own_product(request, slug)
    return render(request, "web/product_debts.html", _debts_context(product))


@owner_required
@require_POST
def product_debt_add(request: HttpRequest, slug: str) -> HttpResponse:
    product = _own_product(request, slug)
    form = DebtForm(request.POST)
    if form.is_valid():
        try:
            debt = debt_record(data_product=product, user=request_user(request), **form.cleaned_data)
        except ValidationError as error:
            service_errors_add(form, error)
        else:
            messages.success(request, f"Added “{debt.title}”; it comes back on {debt.revisit_on:%-d %b %Y}.")
            return redirect(reverse("product_debts", args=[product.slug]))
    return render(request, "web/product_debts.html", _debts_context(product, form=form), status=400)


def _own_debt(request: HttpRequest, slug: str, pk: int) -> tuple[DataProduct, ConsciousDebt]:
    product = _own_product(request, slug)
    return product, get_object_or_404(ConsciousDebt, pk=pk, data_product=product)


@owner_required
@require_http_methods(["GET", "POST"])
def product_debt_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    product, debt = _own_debt(request, slug, pk)
    form = DebtForm(
        request.POST or None,
        auto_id=f"debt{debt.pk}-%s",
        initial={"title": debt.title, "why": debt.why, "revisit_on": debt.revisit_on},
    )
    resolve_form = DebtResolveForm(auto_id=f"debt{debt.pk}-%s")
    if request.method == "POST" and form.is_valid():
        try:
            debt_update(debt=debt, **form.cleaned_data)
        except ValidationError as error:
            service_errors_add(form, error)
        else:
            messages.success(request, f"Saved “{debt.title}”.")
            return redirect(reverse("product_debts", args=[product.slug]))
    return render(
        request, "web/debt_form.html", {"product": product, "debt": debt, "form": form, "resolve_form": resolve_form}
    )


@owner_required
@require_POST
def product_debt_resolve(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    product, debt = _own_debt(request, slug, pk)
    resolve_form = DebtResolveForm(request.POST, auto_id=f"debt{debt.pk}-%s")
    if resolve_form.is_valid():
        try:
            debt_resolve(debt=debt, resolution=resolve_form.cleaned_data["resolution"], user=request_user(request))
        except ValidationError as error:
            service_errors_add(resolve_form, error)
        else:
            messages.success(request, f"Resolved “{debt.title}”.")
            return redirect(reverse("product_debts", args=[product.slug]))
    form = DebtForm(
        auto_id=f"debt{debt.pk}-%s", initial={"title": debt.title, "why": debt.why, "revisit_on": debt.revisit_on}
    )
    return render(
        request,
        "web/debt_form.html",
        {"product": product, "debt": debt, "form": form, "resolve_form": resolve_form},
        status=400,
    )
