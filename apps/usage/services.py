"""Usage writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db import transaction

from apps.catalog.models import DataProduct
from apps.usage.models import UsageRecord


@dataclass(frozen=True)
class UsageInput:
    """Uses of a product by one consumer on one day (already parsed; see apps.usage.ingest)."""

    data_product: DataProduct
    consumer: str
    day: date
    count: int


@transaction.atomic
def usage_record_bulk(*, entries: Sequence[UsageInput]) -> list[UsageRecord]:
    """Store usage counts, one upsert statement for the lot; returns the stored records in order.

    A (product, day, consumer) already stored gets the new count: pipelines send the day's total,
    so sending the same day again (a retry, a late recount) replaces the count rather than
    adding to it, and a re-run changes nothing. Each (product, day, consumer) may appear once.
    """
    if not entries:
        return []
    records = [
        UsageRecord(data_product=entry.data_product, consumer=entry.consumer, day=entry.day, count=entry.count)
        for entry in entries
    ]
    return UsageRecord.objects.bulk_create(
        records,
        update_conflicts=True,
        unique_fields=["data_product", "day", "consumer"],
        update_fields=["count"],
    )


@transaction.atomic
def usage_record_delete(*, usage_record: UsageRecord) -> None:
    """Delete one usage record (a count sent by mistake)."""
    usage_record.delete()
