"""Governance reads: alerts and decisions."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from apps.governance.models import Alert, Decision


def alert_list() -> QuerySet[Alert]:
    """Every alert, newest first."""
    return Alert.objects.order_by("-created_at", "-id")


def decision_list() -> QuerySet[Decision]:
    """Every decision, newest first."""
    return Decision.objects.order_by("-decided_at", "-id")


def decided_product_ids(*, since: date) -> QuerySet:
    """The ids of products with a decision on or after `since` (a subquery, not evaluated here)."""
    return Decision.objects.filter(decided_at__date__gte=since).values("data_product_id")
