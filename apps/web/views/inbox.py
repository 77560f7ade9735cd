"""The governance inbox: alerts with their evidence; acknowledge, snooze and decide; the decision log.

Only governance leads (and admins) may open these pages or act: anyone else gets 403.
Each action answers an htmx request with the alert's card redrawn in place, and a plain
form post with a redirect back to where it came from (or the alert page with the errors).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.auth import request_user
from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.governance.models import Alert
from apps.governance.services import alert_acknowledge, alert_decide, alert_snooze
from apps.valuation.selectors import decision_revisit_default
from apps.web.access import role_required
from apps.web.forms import DecideForm, InboxFilterForm, SnoozeForm, service_errors_add
from apps.web.htmx import HtmxHttpRequest
from apps.web.selectors.inbox import (
    alert_items,
    decision_log_page,
    domain_choices,
    inbox_counts,
    inbox_page,
    owner_choices,
)

governance_required = role_required(Role.GOVERNANCE_LEAD)


def _snooze_form(alert: Alert) -> SnoozeForm:
    # Ids unique to the alert: many cards share a page.
    return SnoozeForm(auto_id=f"alert{alert.pk}-%s")


def _decide_form(alert: Alert, owners: list[tuple[int, str]]) -> DecideForm:
    """A fresh decision form for one alert, proposing the revisit date the decision gets by default."""
    revisit_on = decision_revisit_default(
        domain_id=alert.data_product.domain_id, alert_kind=alert.kind, on=timezone.localdate()
    )
    return DecideForm(auto_id=f"alert{alert.pk}-%s", owners=owners, initial={"revisit_on": revisit_on})


def _back(request: HttpRequest, alert: Alert) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("inbox")


def _card(
    request: HtmxHttpRequest,
    alert: Alert,
    *,
    status: int = 200,
    open_panel: str = "",
    card_error: str = "",
    snooze_form: SnoozeForm | None = None,
    decide_form: DecideForm | None = None,
) -> HttpResponse:
    """One alert card (for htmx), or the alert page around it (plain posts with errors, direct visits).

    A card redrawn over htmx fetches its decision form when the panel opens, as in the inbox,
    unless it comes back with the errors of a decision; the alert's own page shows the form.
    """
    alert = Alert.objects.select_related("data_product__domain", "data_product__owner", "evaluation").get(pk=alert.pk)
    today = timezone.localdate()
    item = alert_items(alerts=[alert], today=today)[0]
    if decide_form is None and not request.htmx:
        decide_form = _decide_form(alert, owner_choices())
    context = {
        "item": item,
        "open_panel": open_panel,
        "card_error": card_error,
        "next": request.POST.get("next") or request.GET.get("next") or "",
        "snooze_form": snooze_form or _snooze_form(alert),
        "decide_form": decide_form,
    }
    if request.htmx:
        # The card, and the inbox's counts swapped out of band: they change without a reload.
        context.update(inbox_counts(today=today), oob=True)
        return render(request, "web/partials/alert_card_oob.html", context, status=status)
    return render(request, "web/alert_detail.html", context, status=status)


@governance_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    filter_form = InboxFilterForm(request.GET or None, domains=domain_choices())
    data = inbox_page(filters=filter_form.filters(), today=today, page_number=request.GET.get("page"))
    # No decision form per card: each is fetched when its panel opens (alert_decide_form).
    cards = [{"item": item, "snooze_form": _snooze_form(item.alert)} for item in data["items"]]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/inbox.html",
        {**data, "cards": cards, "filter_form": filter_form, "query": query.urlencode(), "today": today},
    )


@governance_required
@require_GET
def alert_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert, pk=pk)
    return _card(request, alert, open_panel=request.GET.get("panel", ""))


@governance_required
@require_GET
def alert_decide_form(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The decision form of one alert, fetched into its card when the panel opens (htmx).

    A plain visit opens the alert's page with the form instead.
    """
    alert = get_object_or_404(Alert.objects.select_related("data_product"), pk=pk)
    if not request.htmx:
        return redirect(f"{reverse('alert_detail', args=[alert.pk])}?panel=decide")
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("inbox")
    context = {"alert": alert, "decide_form": _decide_form(alert, owner_choices()), "next": target}
    return render(request, "web/partials/decide_form.html", context)


@governance_required
@require_POST
def alert_acknowledge_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert, pk=pk)
    try:
        alert_acknowledge(alert=alert, user=request_user(request))
    except ValidationError as error:
        if request.htmx:
            return _card(request, alert, card_error=" ".join(error.messages))
        messages.error(request, " ".join(error.messages))
        return _back(request, alert)
    if request.htmx:
        return _card(request, alert)
    messages.success(request, f"Acknowledged the {alert.get_kind_display().lower()} alert on {alert.data_product}.")
    return _back(request, alert)


@governance_required
@require_POST
def alert_snooze_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert, pk=pk)
    form = SnoozeForm(request.POST, auto_id=f"alert{alert.pk}-%s")
    if form.is_valid():
        try:
            alert_snooze(alert=alert, user=request_user(request), until=form.cleaned_data["until"])
        except ValidationError as error:
            service_errors_add(form, error)
        else:
            if request.htmx:
                return _card(request, alert)
            messages.success(
                request, f"Snoozed the alert on {alert.data_product} until {form.cleaned_data['until']:%-d %b %Y}."
            )
            return _back(request, alert)
    return _card(request, alert, open_panel="snooze", snooze_form=form)


@governance_required
@require_POST
def alert_decide_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert.objects.select_related("data_product"), pk=pk)
    owners = owner_choices()
    form = DecideForm(request.POST, auto_id=f"alert{alert.pk}-%s", owners=owners)
    if form.is_valid():
        data = form.cleaned_data
        new_owner = User.objects.filter(pk=data["new_owner"]).first() if data.get("new_owner") else None
        try:
            decision = alert_decide(
                alert=alert,
                user=request_user(request),
                action=data["action"],
                rationale=data.get("rationale") or "",
                sunset_on=data.get("sunset_on"),
                new_owner=new_owner,
                revisit_on=data.get("revisit_on"),
            )
        except ValidationError as error:
            service_errors_add(form, error)
        else:
            if request.htmx:
                return _card(request, alert)
            messages.success(
                request,
                f"Decided {decision.get_action_display().lower()} on {alert.data_product}; the alert is resolved.",
            )
            return _back(request, alert)
    return _card(request, alert, open_panel="decide", decide_form=form)


@role_required(Role.GOVERNANCE_LEAD, Role.EXECUTIVE)
@require_GET
def decision_log(request: HttpRequest) -> HttpResponse:
    """Every decision with its rationale: governance leads take them, executives read them (DESIGN.md)."""
    return render(request, "web/decision_log.html", decision_log_page(page_number=request.GET.get("page")))
