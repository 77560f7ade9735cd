"""Cost reads."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.costs.models import CostEntry


def cost_entry_list() -> QuerySet[CostEntry]:
    """Every cost entry, newest month first."""
    return CostEntry.objects.order_by("-period_start", "data_product_id", "id")
