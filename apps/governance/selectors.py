"""Governance reads: alerts and decisions."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.governance.models import Alert, Decision


def alert_list() -> QuerySet[Alert]:
    """Every alert, newest first."""
    return Alert.objects.order_by("-created_at", "-id")


def decision_list() -> QuerySet[Decision]:
    """Every decision, newest first."""
    return Decision.objects.order_by("-decided_at", "-id")
