"""Usage reads."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.usage.models import UsageRecord


def usage_record_list() -> QuerySet[UsageRecord]:
    """Every usage record, newest day first."""
    return UsageRecord.objects.order_by("-day", "data_product_id", "consumer", "id")
