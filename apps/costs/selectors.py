"""Cost reads: current entries only, unless a function says it shows history."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.costs.models import CostEntry


def cost_entry_list() -> QuerySet[CostEntry]:
    """Every current cost entry, newest month first."""
    return CostEntry.objects.filter(is_current=True).order_by("-period_start", "data_product_id", "id")


def cost_entry_history() -> QuerySet[CostEntry]:
    """Every cost entry, superseded revisions included, newest month first."""
    return CostEntry.objects.order_by("-period_start", "data_product_id", "-revision", "id")
