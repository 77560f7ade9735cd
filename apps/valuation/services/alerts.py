"""The alert pass of an evaluation: open what is missing, resolve what no longer holds.

One read of the unresolved alerts of the products in scope, then at most one bulk insert,
one bulk update of resolutions and one update of snoozes that ran out. Notifications go out
only for alerts that open (a transition), so re-running an evaluation sends nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from apps.governance.models import UNRESOLVED_STATUSES, Alert, AlertKind, AlertStatus
from apps.notifications.services import alerts_opened_notify
from meshvalue.valuation import USAGE_DAYS, Recommendation, SignalKind, Valuation

from .gather import Scope, rows


@dataclass(frozen=True)
class AlertPassResult:
    opened: list[int]
    reopened: list[int]
    resolved: list[int]


def _messages(valuation: Valuation) -> dict[str, str]:
    """What each alert kind this valuation asks for should say."""
    messages = {signal.kind.value: signal.message for signal in valuation.signals}
    if valuation.recommendation.value in valuation.alert_kinds:
        label = valuation.recommendation.value.capitalize()
        messages[valuation.recommendation.value] = f"{label}: " + "; ".join(valuation.reasons) + "."
    return messages


def _resolution(kind: str, valuation: Valuation) -> str:
    """Why an alert of `kind` no longer holds for `valuation`."""
    on = valuation.as_of.isoformat()
    if kind in {AlertKind.RETIRE, AlertKind.INVEST, AlertKind.REVIEW}:
        return (
            f"Resolved automatically by the evaluation of {on}: the recommendation is now "
            f"{Recommendation(valuation.recommendation).value} ({'; '.join(valuation.reasons)})."
        )
    if kind == SignalKind.STALE_KPI:
        return f"Resolved automatically by the evaluation of {on}: every attributed KPI has recent measurements."
    if kind == SignalKind.ORPHANED:
        return (
            f"Resolved automatically by the evaluation of {on}: no longer used only by others in the last "
            f"{USAGE_DAYS} days (its owner uses it, or nobody does)."
        )
    return f"Resolved automatically by the evaluation of {on}: no open bet is due for review any more."


def alerts_reconcile(
    *, scope: Scope, valuations: list[Valuation], evaluation_ids: dict[int, int], skip: frozenset[int]
) -> AlertPassResult:
    """Bring the alerts of the products in `scope` in line with their valuations as of `scope.as_of`.

    - a kind asked for with no unresolved alert opens one (unless this date already raised one,
      so that re-running a date never reopens what a governance lead just decided);
    - an unresolved alert whose condition no longer holds is resolved with the reason;
    - a snoozed alert whose `snoozed_until` has passed goes back to open;
    - alerts of products that are no longer active are resolved;
    - products in `skip` (evaluated at a later date already) keep their alerts as they are.
    Must run inside the evaluation's transaction.
    """
    as_of = scope.as_of
    by_product = {valuation.product_id: valuation for valuation in valuations}
    existing = rows(
        Alert.objects.filter(scope.products("data_product__"))
        .filter(Q(status__in=UNRESOLVED_STATUSES) | Q(opened_on=as_of))
        .order_by("id")
        .values_list("id", "data_product_id", "kind", "status", "snoozed_until", "opened_on", "data_product__lifecycle")
    )
    raised_today: set[tuple[int, str]] = set()
    unresolved: set[tuple[int, str]] = set()
    resolutions: dict[int, str] = {}
    reopen: list[int] = []
    for alert_id, product_id, kind, status, snoozed_until, opened_on, lifecycle in existing:
        if opened_on == as_of:
            raised_today.add((product_id, kind))
        if status == AlertStatus.RESOLVED or product_id in skip:
            continue
        valuation = by_product.get(product_id)
        if valuation is None:
            resolutions[alert_id] = f"Resolved automatically on {as_of.isoformat()}: the product is {lifecycle}."
            continue
        if kind not in valuation.alert_kinds:
            resolutions[alert_id] = _resolution(kind, valuation)
            continue
        unresolved.add((product_id, kind))
        if status == AlertStatus.SNOOZED and snoozed_until is not None and snoozed_until < as_of:
            reopen.append(alert_id)

    to_open = []
    for valuation in valuations:
        product_id = valuation.product_id
        if product_id in skip:
            continue
        missing = [
            kind
            for kind in valuation.alert_kinds
            if (product_id, kind) not in unresolved and (product_id, kind) not in raised_today
        ]
        if not missing:
            continue  # the common case: nothing new, no message to write
        messages = _messages(valuation)
        to_open.extend(
            Alert(
                data_product_id=product_id,
                kind=kind,
                status=AlertStatus.OPEN,
                evaluation_id=evaluation_ids.get(product_id),
                message=messages[kind],
                opened_on=as_of,
            )
            for kind in sorted(missing)
        )
    opened = [alert.pk for alert in Alert.objects.bulk_create(to_open)] if to_open else []

    if resolutions:
        now = timezone.now()
        resolved_alerts = [
            Alert(pk=alert_id, status=AlertStatus.RESOLVED, resolved_at=now, resolution=resolution)
            for alert_id, resolution in resolutions.items()
        ]
        Alert.objects.bulk_update(resolved_alerts, ["status", "resolved_at", "resolution"])
    if reopen:
        Alert.objects.filter(pk__in=reopen, status=AlertStatus.SNOOZED).update(
            status=AlertStatus.OPEN, snoozed_until=None
        )
    if opened or reopen:
        alerts_opened_notify(alert_ids=[*opened, *reopen])
    return AlertPassResult(opened=opened, reopened=reopen, resolved=list(resolutions))
