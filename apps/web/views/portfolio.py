"""The executive dashboard and the landing page after sign-in."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from apps.accounts.auth import request_user
from apps.accounts.roles import Role, has_role
from apps.web.access import DASHBOARD_ROLES, landing_url, role_required
from apps.web.forms import AsOfForm, ProductTableForm
from apps.web.htmx import HtmxHttpRequest
from apps.web.selectors.dashboard import dashboard
from apps.web.selectors.inbox import domain_choices
from apps.web.selectors.insights import decision_loop_summary
from apps.web.selectors.portfolio_table import portfolio_map, product_table

# The element the table's links and filters swap over htmx: only the table is drawn again.
PRODUCT_TABLE_TARGET = "portfolio-products"


@login_required
def landing(request: HttpRequest) -> HttpResponse:
    """After sign-in: the page a `next` parameter asked for, else the workspace of the user's role."""
    target = request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(landing_url(request_user(request)))


@login_required
def home(request: HtmxHttpRequest) -> HttpResponse:
    """The portfolio dashboard (`/`) for executives and governance leads.

    A product owner without those roles is sent to their workspace; a user with no role yet
    gets a page saying whom to ask.
    """
    if not has_role(request.user, *DASHBOARD_ROLES):
        if has_role(request.user, Role.PRODUCT_OWNER):
            return redirect("workspace")
        return render(request, "web/no_role.html", status=403)
    form = AsOfForm(request.GET or None)
    as_of = form.as_of_or_today()
    table_form = ProductTableForm(request.GET or None, domains=domain_choices())
    # The as-of date stays in the table's links only when the reader chose one (and it was valid).
    as_of_param = as_of.isoformat() if form.is_bound and form.is_valid() and request.GET.get("as_of") else ""
    table = {
        "table_form": table_form,
        "table_target": PRODUCT_TABLE_TARGET,
        **product_table(query=table_form.table_query(), as_of=as_of, as_of_param=as_of_param),
    }
    if request.htmx and request.htmx.target == PRODUCT_TABLE_TARGET:
        response = render(request, "web/partials/product_table.html", table)
    else:
        context = {
            "form": form,
            "as_of_param": as_of_param,
            **dashboard(as_of=as_of),
            **table,
            "decision_loop": decision_loop_summary(as_of=as_of),
        }
        response = render(request, "web/dashboard.html", context)
    # The same URL answers the whole page or, over htmx, the table alone: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@role_required(*DASHBOARD_ROLES)
@require_GET
def portfolio_map_data(request: HttpRequest) -> JsonResponse:
    """The value/cost map's points as compact JSON (`?as_of=`), fetched by the dashboard's chart.

    Apart from the page so that the dashboard's HTML does not grow with the portfolio.
    """
    as_of = AsOfForm(request.GET or None).as_of_or_today()
    response = JsonResponse(portfolio_map(as_of=as_of))
    patch_vary_headers(response, ("Cookie",))
    return response
