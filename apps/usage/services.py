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


@dataclass(frozen=True)
class UsageRecorded:
    """What a bulk write did: one UsageRecord per row sent, in order, and the counts.

    A row whose count equals the stored count of its (product, day, consumer) writes nothing
    (`unchanged`, and the stored record is returned); every other row is stored (`stored`), a
    `correction` when it replaced a stored count. The counts describe the rows as this request
    read them: a request that changes the same key at the same moment may make a new row an
    update, but the count stored is always the last one written.
    """

    records: list[UsageRecord]
    stored: int
    corrections: int
    unchanged: int


@transaction.atomic
def usage_record_bulk(*, entries: Sequence[UsageInput]) -> UsageRecorded:
    """Store usage counts: one read of the stored counts, one upsert of the rows that change anything.

    A (product, day, consumer) already stored gets the new count: pipelines send the day's total,
    so sending the same day again (a retry, a late recount) replaces the count rather than
    adding to it, and a re-run changes nothing. Each (product, day, consumer) may appear once.
    """
    if not entries:
        return UsageRecorded(records=[], stored=0, corrections=0, unchanged=0)
    keys = {(entry.data_product.pk, entry.day, entry.consumer) for entry in entries}
    days = [entry.day for entry in entries]
    # One read of the stored counts: the box of products x days x consumers holds every key sent.
    stored_before = {
        (record.data_product_id, record.day, record.consumer): record
        for record in UsageRecord.objects.filter(
            data_product_id__in={key[0] for key in keys},
            day__gte=min(days),
            day__lte=max(days),
            consumer__in={key[2] for key in keys},
        )
    }
    records: list[UsageRecord] = []
    changed: list[UsageRecord] = []
    corrections = 0
    for entry in entries:
        before = stored_before.get((entry.data_product.pk, entry.day, entry.consumer))
        if before is not None and before.count == entry.count:
            records.append(before)
            continue
        corrections += before is not None
        record = UsageRecord(data_product=entry.data_product, consumer=entry.consumer, day=entry.day, count=entry.count)
        records.append(record)
        changed.append(record)
    if changed:
        UsageRecord.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["data_product", "day", "consumer"],
            update_fields=["count"],
        )
    return UsageRecorded(
        records=records, stored=len(changed), corrections=corrections, unchanged=len(entries) - len(changed)
    )


@transaction.atomic
def usage_record_delete(*, usage_record: UsageRecord) -> None:
    """Delete one usage record (a count sent by mistake)."""
    usage_record.delete()
