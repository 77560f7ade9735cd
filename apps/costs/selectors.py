"""Cost reads: current entries only, unless a function says it shows history."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.costs.models import AllocationRule, CostEntry, CostImport, ExchangeRate


def cost_entry_list() -> QuerySet[CostEntry]:
    """Every current cost entry, newest month first."""
    return CostEntry.objects.filter(is_current=True).order_by("-period_start", "data_product_id", "id")


def cost_entry_history() -> QuerySet[CostEntry]:
    """Every cost entry, superseded revisions included, newest month first."""
    return CostEntry.objects.order_by("-period_start", "data_product_id", "-revision", "id")


def cost_import_list() -> QuerySet[CostImport]:
    """Every billing import, newest first."""
    return CostImport.objects.order_by("-created_at", "-id")


def allocation_rule_list() -> QuerySet[AllocationRule]:
    """The allocation rules in the order they are tried, with their products."""
    return AllocationRule.objects.prefetch_related("targets").order_by("position", "id")


def exchange_rate_list() -> QuerySet[ExchangeRate]:
    """Every exchange rate, newest month first."""
    return ExchangeRate.objects.order_by("-month", "currency")
