"""Cost reads: current entries only, unless a function says it shows history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

from apps.costs.models import AllocationRule, CostEntry, CostImport, CostImportStatus, ExchangeRate


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


def bill_coverage_last_month() -> dict | None:
    """The unallocated share of the last month of the latest succeeded bill import (one query); None before any.

    `share` is unallocated / the month's converted effective cost (None when that is 0).
    """
    latest = (
        CostImport.objects.filter(status=CostImportStatus.SUCCEEDED)
        .order_by("-finished_at", "-id")
        .only("id", "file_name", "result")
        .first()
    )
    months = (latest.result or {}).get("months") if latest else None
    if latest is None or not months:
        return None
    last = max(months, key=lambda month: month["month"])
    converted, unallocated = Decimal(last["converted"]), Decimal(last["unallocated"])
    return {
        "cost_import": latest.pk,
        "file_name": latest.file_name,
        "month": date.fromisoformat(last["month"]),
        "converted": converted,
        "unallocated": unallocated,
        "share": (unallocated / converted) if converted else None,
    }
