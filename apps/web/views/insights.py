"""The decision-loop page and the readiness page: executives and governance leads."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.web.access import DASHBOARD_ROLES, role_required
from apps.web.forms import PeriodForm, ReadinessForm
from apps.web.selectors.insights import decision_loop_page, domain_choices, readiness_page


@role_required(*DASHBOARD_ROLES)
def decision_loop_view(request: HttpRequest) -> HttpResponse:
    """Were our bets good, and do alerts become decisions in time (`/decision-loop/`)."""
    form = PeriodForm(request.GET or None, domains=domain_choices())
    date_from, date_to, domain_id = form.period()
    context = decision_loop_page(date_from=date_from, date_to=date_to, domain_id=domain_id)
    return render(request, "web/decision_loop.html", {"form": form, **context})


@role_required(*DASHBOARD_ROLES)
def readiness_view(request: HttpRequest) -> HttpResponse:
    """Which domains can measure their products' value yet (`/readiness/`)."""
    form = ReadinessForm(request.GET or None, domains=domain_choices())
    as_of = form.as_of_or_today()
    domain_id = form.cleaned_data.get("domain") if form.is_bound and form.is_valid() else None
    return render(request, "web/readiness.html", {"form": form, **readiness_page(as_of=as_of, domain_id=domain_id)})
