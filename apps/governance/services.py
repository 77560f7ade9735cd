"""Governance writes: acting on alerts and recording decisions."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.models import DataProduct, Lifecycle
from apps.governance.models import Alert, AlertKind, AlertStatus, Decision, DecisionAction
from apps.notifications.services import retirement_decided_notify


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
) -> Decision:
    """Record a decision on a product and apply it.

    `retire` deprecates the product with the sunset date (a scheduled job retires it on that
    date); `reassign_owner` hands the product to `new_owner`; `invest` and `keep` change nothing
    but the record.
    """
    product = DataProduct.objects.select_for_update().get(pk=data_product.pk)
    errors = _decision_errors(
        data_product=product, action=action, rationale=rationale, sunset_on=sunset_on, new_owner=new_owner
    )
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
) -> Decision:
    """Decide on an alert: record and apply the decision, then resolve the alert.

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
    )
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = decision.decided_at
    alert.resolution = f"Decided: {decision.get_action_display().lower()} by {user.username}."
    alert.save(update_fields=["status", "resolved_at", "resolution"])
    if alert.kind == AlertKind.BET_DUE:
        bets_confirm_for_alert(alert=alert, user=user)
    return decision
