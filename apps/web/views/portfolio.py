"""The executive dashboard and the landing page after sign-in."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from apps.accounts.auth import request_user
from apps.accounts.roles import Role, has_role
from apps.web.access import DASHBOARD_ROLES, landing_url
from apps.web.forms import AsOfForm
from apps.web.selectors.dashboard import dashboard
from apps.web.selectors.insights import decision_loop_summary


@login_required
def landing(request: HttpRequest) -> HttpResponse:
    """After sign-in: the page a `next` parameter asked for, else the workspace of the user's role."""
    target = request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(landing_url(request_user(request)))


@login_required
def home(request: HttpRequest) -> HttpResponse:
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
    context = {"form": form, **dashboard(as_of=as_of), "decision_loop": decision_loop_summary(as_of=as_of)}
    return render(request, "web/dashboard.html", context)
