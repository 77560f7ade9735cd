"""Builders shared by the notification tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction

from apps.governance.models import Alert, AlertKind
from apps.notifications.services import alerts_opened_notify
from apps.notifications.services.webhooks import webhook_subscription_create
from apps.valuation.models import Evaluation


def evaluation_for(product, *, as_of: date = date(2026, 11, 2)) -> Evaluation:
    return Evaluation.objects.create(
        data_product=product,
        as_of=as_of,
        value=Decimal("5400.00"),
        cost=Decimal("10000.00"),
        ratio=Decimal("0.5400"),
        net=Decimal("-4600.00"),
        recent_value=Decimal("810.00"),
        recent_cost=Decimal("1000.00"),
        recent_ratio=Decimal("0.8100"),
        recommendation="retire",
        reasons=["value/cost 0.54 below 1.00 over 365 days", "value/cost 0.81 below 1.00 over the last 90 days"],
        signals=[],
        window_days=365,
        recent_days=90,
        grace_days=90,
        retire_below=Decimal("1.0"),
        invest_above=Decimal("3.0"),
        stale_periods=2,
    )


def open_alert(product, *, kind: str = AlertKind.RETIRE, evaluation: Evaluation | None = None) -> Alert:
    """Open an alert the way the evaluation does: create it and call the hook in one transaction."""
    with transaction.atomic():
        alert = Alert.objects.create(
            data_product=product,
            kind=kind,
            evaluation=evaluation,
            message="value/cost 0.54 below 1.00 over 365 days and 0.81 over the last 90 days",
            opened_on=date(2026, 11, 2),
        )
        alerts_opened_notify(alert_ids=[alert.pk])
    return alert


def subscribe(receiver, *, user=None, **options):
    return webhook_subscription_create(user=user, url=receiver.url, **options)
