"""The pages of one data product and of one business goal: readable by every role."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from apps.accounts.roles import Role, has_role, is_admin
from apps.catalog.models import BusinessGoal, DataProduct, Lifecycle
from apps.web.access import role_required
from apps.web.selectors.catalog import goal_page, product_page
from apps.web.selectors.history import product_history


@role_required(*Role)
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    product = get_object_or_404(DataProduct.objects.select_related("domain", "owner"), slug=slug)
    can_log = product.lifecycle != Lifecycle.RETIRED and (
        is_admin(request.user) or (product.owner_id == request.user.pk and has_role(request.user, Role.PRODUCT_OWNER))
    )
    context = {
        "product": product,
        "can_log": can_log,
        "can_govern": has_role(request.user, Role.GOVERNANCE_LEAD),
        # Through today inclusive: an outcome logged for the period that starts today shows at once.
        **product_page(product=product, as_of=timezone.localdate() + timedelta(days=1)),
        "audit_entries": product_history(product=product),
    }
    return render(request, "web/product_detail.html", context)


@role_required(*Role)
def goal_detail(request: HttpRequest, slug: str) -> HttpResponse:
    goal = get_object_or_404(BusinessGoal.objects.select_related("domain", "sponsor"), slug=slug)
    return render(request, "web/goal_detail.html", {"goal": goal, **goal_page(goal=goal, as_of=timezone.localdate())})
