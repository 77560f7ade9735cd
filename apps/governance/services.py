"""Governance writes: acting on alerts, recording decisions, and keeping alerts in line with evaluations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import may_own_products
from apps.catalog.models import DataProduct, Lifecycle
from apps.catalog.services import data_product_set_lifecycle
from apps.core.sql import plain_rows
from apps.governance.models import UNRESOLVED_STATUSES, Alert, AlertKind, AlertStatus, Decision, DecisionAction
from apps.notifications.services import alerts_opened_notify, retirement_decided_notify
from meshvalue.valuation import Valuation, resolution


def _locked_unresolved(alert: Alert) -> Alert:
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.status == AlertStatus.RESOLVED:
        raise ValidationError({"status": "This alert is already resolved."})
    return locked


@transaction.atomic
def alert_acknowledge(*, alert: Alert, user: User) -> Alert:
    """Mark an open or snoozed alert as seen by `user`; it stays unresolved until decided."""
    alert = _locked_unresolved(alert)
    if alert.status == AlertStatus.ACKNOWLEDGED:
        return alert
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = user
    alert.snoozed_until = None
    alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "snoozed_until"])
    return alert


@transaction.atomic
def alert_snooze(*, alert: Alert, user: User, until: date) -> Alert:
    """Hide an unresolved alert until `until` (a future date); evaluations re-open it after that."""
    if until <= timezone.localdate():
        raise ValidationError({"until": "Snooze until a date after today."})
    alert = _locked_unresolved(alert)
    alert.status = AlertStatus.SNOOZED
    alert.snoozed_until = until
    if alert.acknowledged_at is None:
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = user
    alert.save(update_fields=["status", "snoozed_until", "acknowledged_at", "acknowledged_by"])
    return alert


def _decision_errors(
    *, data_product: DataProduct, action: str, rationale: str, sunset_on: date | None, new_owner: User | None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if action not in DecisionAction.values:
        errors["action"] = f"Choose one of: {', '.join(DecisionAction.values)}."
    if not (rationale or "").strip():
        errors["rationale"] = "Explain the decision: a rationale is required."
    if action == DecisionAction.RETIRE:
        if sunset_on is None:
            errors["sunset_on"] = "A decision to retire needs a sunset date."
        elif sunset_on < timezone.localdate():
            errors["sunset_on"] = "The sunset date cannot be in the past."
        elif data_product.launched_on and sunset_on < data_product.launched_on:
            errors["sunset_on"] = "The sunset date cannot be before the product's launch."
        if data_product.lifecycle == Lifecycle.RETIRED:
            errors["action"] = "This product is already retired."
    if action == DecisionAction.REASSIGN_OWNER:
        if new_owner is None:
            errors["new_owner"] = "Name the new owner."
        elif not new_owner.is_active:
            errors["new_owner"] = "The new owner's account is inactive."
        elif not may_own_products(new_owner):
            # Anyone else could not record a single outcome or cost for the product they were handed.
            errors["new_owner"] = "The new owner must hold the product owner role (or be staff)."
        elif new_owner.pk == data_product.owner_id:
            errors["new_owner"] = "This person already owns the product."
    return errors


@transaction.atomic
def decision_record(
    *,
    data_product: DataProduct,
    user: User,
    action: str,
    rationale: str,
    sunset_on: date | None = None,
    new_owner: User | None = None,
    alert: Alert | None = None,
    revisit_on: date | None = None,
) -> Decision:
    """Record a decision on a product and apply it.

    `revisit_on`: until that date an alert of the same kind is not raised again for the product
    (the evaluation reads it; empty means the decision date plus the policy's quiet days).

    `retire` deprecates the product with the sunset date (a scheduled job retires it on that
    date); `reassign_owner` hands the product to `new_owner`; `invest` and `keep` change nothing
    but the record.
    """
    product = DataProduct.objects.select_for_update().get(pk=data_product.pk)
    errors = _decision_errors(
        data_product=product, action=action, rationale=rationale, sunset_on=sunset_on, new_owner=new_owner
    )
    if revisit_on is not None and revisit_on < timezone.localdate():
        errors["revisit_on"] = "The revisit date cannot be in the past."
    if errors:
        raise ValidationError(errors)
    decision = Decision.objects.create(
        alert=alert,
        data_product=product,
        action=action,
        rationale=rationale.strip(),
        sunset_on=sunset_on if action == DecisionAction.RETIRE else None,
        new_owner=new_owner if action == DecisionAction.REASSIGN_OWNER else None,
        previous_owner_id=product.owner_id,
        decided_by=user,
        revisit_on=revisit_on,
    )
    if action == DecisionAction.RETIRE:
        product.lifecycle = Lifecycle.DEPRECATED
        product.sunset_on = sunset_on
        product.save(update_fields=["lifecycle", "sunset_on", "updated_at"])
        retirement_decided_notify(decision_id=decision.pk)
    elif action == DecisionAction.REASSIGN_OWNER:
        product.owner = new_owner  # type: ignore[assignment]
        product.save(update_fields=["owner", "updated_at"])
    return decision


@transaction.atomic
def alert_decide(
    *,
    alert: Alert,
    user: User,
    action: str,
    rationale: str,
    sunset_on: date | None = None,
    new_owner: User | None = None,
    revisit_on: date | None = None,
) -> Decision:
    """Decide on an alert: record and apply the decision, then resolve the alert.

    Until `revisit_on` the evaluation raises no alert of this kind for the product (see
    `decision_record`); afterwards, if the condition still holds, the new alert quotes this decision.

    Deciding a `bet_due` alert also confirms the measured outcome of the product's due bets.
    """
    from apps.bets.services import bets_confirm_for_alert  # bets reads governance models: import late

    alert = _locked_unresolved(alert)
    decision = decision_record(
        data_product=alert.data_product,
        user=user,
        action=action,
        rationale=rationale,
        sunset_on=sunset_on,
        new_owner=new_owner,
        alert=alert,
        revisit_on=revisit_on,
    )
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = decision.decided_at
    alert.resolution = f"Decided: {decision.get_action_display().lower()} by {user.username}."
    alert.save(update_fields=["status", "resolved_at", "resolution"])
    if alert.kind == AlertKind.BET_DUE:
        bets_confirm_for_alert(alert=alert, user=user)
    return decision


@dataclass(frozen=True)
class AlertPassResult:
    opened: list[int]
    reopened: list[int]
    resolved: list[int]


def alerts_reconcile(
    *,
    as_of: date,
    product_range: tuple[int, int] | None,
    valuations: list[Valuation],
    evaluation_ids: dict[int, int],
    skip: frozenset[int],
    run_id: int | None = None,
) -> AlertPassResult:
    """Bring the alerts of the products in `product_range` (all when None) in line with their valuations.

    One read of the unresolved alerts, then at most one bulk insert, one bulk update of
    resolutions and one update of snoozes that ran out:
    - a kind a valuation asks for (`Valuation.alerts`) with no unresolved alert opens one, unless
      this date already raised one, so that re-running a date never reopens what a governance
      lead just decided;
    - an unresolved alert whose condition no longer holds is resolved with the reason; one whose
      condition holds but is held by a decision (`Valuation.held`) stays as it is;
    - a snoozed alert whose `snoozed_until` has passed goes back to open;
    - alerts of products that are no longer active (no valuation) are resolved;
    - products in `skip` (evaluated at a later date already) keep their alerts as they are.
    Notifications go out only for alerts that open (a transition), so re-running sends nothing twice.
    Must run inside the evaluation's transaction, under `alerts_lock`. People hear of the alerts
    a run opens in one e-mail each: `run_id` names the batch (without a run, the as-of date does).
    """
    by_product = {valuation.product_id: valuation for valuation in valuations}
    in_range = Q()
    if product_range is not None:
        in_range = Q(data_product_id__gte=product_range[0], data_product_id__lt=product_range[1])
    existing = plain_rows(
        Alert.objects.filter(in_range)
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
            resolutions[alert_id] = resolution(kind, valuation)
            continue
        unresolved.add((product_id, kind))
        if status == AlertStatus.SNOOZED and snoozed_until is not None and snoozed_until < as_of:
            reopen.append(alert_id)

    to_open = [
        Alert(
            data_product_id=valuation.product_id,
            kind=kind,
            status=AlertStatus.OPEN,
            evaluation_id=evaluation_ids.get(valuation.product_id),
            message=message,
            opened_on=as_of,
        )
        for valuation in valuations
        if valuation.alerts and valuation.product_id not in skip
        for kind, message in sorted(valuation.alerts.items())
        if (valuation.product_id, kind) not in unresolved and (valuation.product_id, kind) not in raised_today
    ]
    opened = [alert.pk for alert in Alert.objects.bulk_create(to_open)] if to_open else []
    if resolutions:
        now = timezone.now()
        Alert.objects.bulk_update(
            [
                Alert(pk=alert_id, status=AlertStatus.RESOLVED, resolved_at=now, resolution=text)
                for alert_id, text in resolutions.items()
            ],
            ["status", "resolved_at", "resolution"],
        )
    if reopen:
        Alert.objects.filter(pk__in=reopen, status=AlertStatus.SNOOZED).update(
            status=AlertStatus.OPEN, snoozed_until=None
        )
    if opened or reopen:
        batch_key = f"run:{run_id}" if run_id is not None else f"evaluation:{as_of.isoformat()}"
        alerts_opened_notify(alert_ids=[*opened, *reopen], batch_key=batch_key)
    return AlertPassResult(opened=opened, reopened=reopen, resolved=list(resolutions))


@transaction.atomic
def retirement_cancel(*, data_product: DataProduct, user: User, rationale: str) -> Decision:
    """Cancel a decided retirement: a `keep` decision with the rationale, and the product active again."""
    if data_product.lifecycle != Lifecycle.DEPRECATED:
        raise ValidationError({"lifecycle": "Only a deprecated product's retirement can be cancelled."})
    decision = decision_record(data_product=data_product, user=user, action=DecisionAction.KEEP, rationale=rationale)
    data_product_set_lifecycle(data_product=data_product, lifecycle=Lifecycle.ACTIVE, on=timezone.localdate())
    return decision
