"""The pages of one data product and of one business goal: readable by every role."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from apps.accounts.roles import Role, has_role, is_admin
from apps.catalog.models import BusinessGoal, DataProduct, Lifecycle
from apps.web.access import role_required
from apps.web.forms import CatalogFilterForm
from apps.web.selectors.catalog import catalog_page, goal_page, product_page
from apps.web.selectors.history import product_history
from apps.web.selectors.inbox import domain_choices
from apps.web.selectors.insights import product_readiness_panel


@role_required(*Role)
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    product = get_object_or_404(DataProduct.objects.select_related("domain", "owner"), slug=slug)
    can_log = product.lifecycle != Lifecycle.RETIRED and (
        is_admin(request.user) or (product.owner_id == request.user.pk and has_role(request.user, Role.PRODUCT_OWNER))
    )
    can_edit = is_admin(request.user) or (
        product.owner_id == request.user.pk and has_role(request.user, Role.PRODUCT_OWNER)
    )
    context = {
        "product": product,
        "can_log": can_log,
        "can_edit": can_edit and product.lifecycle != Lifecycle.RETIRED,
        "today": timezone.localdate(),
        "open_debts": product.debts.filter(resolved_at__isnull=True).count() if can_edit else 0,
        "can_govern": has_role(request.user, Role.GOVERNANCE_LEAD),
        # Through today inclusive: an outcome logged for the period that starts today shows at once.
        **product_page(product=product, as_of=timezone.localdate() + timedelta(days=1)),
        "readiness": product_readiness_panel(product=product, as_of=timezone.localdate()),
        "audit_entries": product_history(product=product),
    }
    return render(request, "web/product_detail.html", context)


@role_required(*Role)
def goal_detail(request: HttpRequest, slug: str) -> HttpResponse:
    goal = get_object_or_404(BusinessGoal.objects.select_related("domain", "sponsor"), slug=slug)
    data = goal_page(
        goal=goal,
        as_of=timezone.localdate(),
        kpi_page=request.GET.get("kpis_page"),
        product_page=request.GET.get("products_page"),
    )
    return render(request, "web/goal_detail.html", {"goal": goal, **data, "query": request.GET})


@role_required(*Role)
def catalog_list(request: HttpRequest) -> HttpResponse:
    """Every data product with its latest figures; the dashboard's tiles open it filtered by recommendation."""
    form = CatalogFilterForm(request.GET or None, domains=domain_choices())
    filters = form.filters()
    context = {
        "form": form,
        "filters": filters,
        "can_register": has_role(request.user, Role.PRODUCT_OWNER),
        **catalog_page(filters=filters, as_of=timezone.localdate(), page_number=request.GET.get("page")),
        "query": request.GET,
    }
    return render(request, "web/catalog.html", context)
