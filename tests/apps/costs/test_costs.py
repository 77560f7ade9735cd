"""Cost entries: monthly periods, the sign rule, one currency, revisions per key."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.core.errors import BulkValidationError
from apps.costs.models import CostEntry
from apps.costs.services import CostInput, cost_record, costs_record_bulk
from tests.factories import CostEntryFactory, DataProductFactory

pytestmark = pytest.mark.django_db


def test_cost_is_recorded_in_the_configured_currency():
    product = DataProductFactory()
    entry = cost_record(data_product=product, period_start=date(2026, 2, 1), amount=Decimal("1200.50"))
    assert (entry.amount, entry.currency, entry.category) == (Decimal("1200.50"), "EUR", "other")


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"period_start": date(2026, 2, 2)}, "period_start", "the 1st of a month"),
        ({"amount": Decimal("-1")}, "amount", "cannot be negative"),
        ({"amount": Decimal("NaN")}, "amount", "finite"),
        ({"amount": Decimal("1.005")}, "amount", "2 decimal places"),
        ({"currency": "usd"}, "currency", "records costs in EUR"),
        ({"category": "snacks"}, "category", "infrastructure"),
    ],
)
def test_bad_cost_is_refused_per_field(changes, field, fragment):
    arguments = {"data_product": DataProductFactory(), "period_start": date(2026, 2, 1), "amount": Decimal("10")}
    arguments.update(changes)
    with pytest.raises(ValidationError) as raised:
        cost_record(**arguments)
    assert fragment in raised.value.message_dict[field][0]
    assert not CostEntry.objects.exists()


def test_reimporting_the_same_lines_changes_nothing():
    product = DataProductFactory()
    lines = [
        CostInput(data_product=product, period_start=date(2026, m, 1), amount=Decimal("100"), external_id=f"inv-{m}")
        for m in (1, 2, 3)
    ]
    first = costs_record_bulk(entries=lines)
    again = costs_record_bulk(entries=lines)
    assert [e.pk for e in first] == [e.pk for e in again]
    assert CostEntry.objects.count() == 3


def test_external_id_sent_again_with_another_figure_is_a_new_current_revision():
    product = DataProductFactory()
    (first,) = costs_record_bulk(
        entries=[CostInput(data_product=product, period_start=date(2026, 1, 1), amount=Decimal("1"), external_id="x")]
    )
    (second,) = costs_record_bulk(
        entries=[CostInput(data_product=product, period_start=date(2026, 1, 1), amount=Decimal("2"), external_id="x")]
    )
    first.refresh_from_db()
    assert (first.is_current, first.revision) == (False, 1)
    assert (second.is_current, second.revision, second.amount, second.source_key) == (True, 2, Decimal("2"), "x")
    assert CostEntry.objects.count() == 2


def test_a_bad_batch_stores_nothing_and_reports_every_row():
    product = DataProductFactory()
    with pytest.raises(BulkValidationError) as raised:
        costs_record_bulk(
            entries=[
                CostInput(data_product=product, period_start=date(2026, 2, 1), amount=Decimal("5"), external_id="y"),
                CostInput(data_product=product, period_start=date(2026, 2, 1), amount=Decimal("6"), external_id="y"),
                CostInput(data_product=product, period_start=date(2026, 3, 1), amount=Decimal("-3")),
            ]
        )
    assert [(e.row, e.field) for e in raised.value.errors] == [(2, "external_id"), (3, "amount")]
    assert not CostEntry.objects.exists()


def test_typing_a_cost_again_for_the_same_month_and_category_is_a_revision():
    product = DataProductFactory()
    first = cost_record(data_product=product, period_start=date(2026, 1, 1), amount=Decimal("10"))
    same = cost_record(data_product=product, period_start=date(2026, 1, 1), amount=Decimal("10"))
    other = cost_record(data_product=product, period_start=date(2026, 1, 1), amount=Decimal("11"))
    assert same.pk == first.pk
    assert (other.revision, other.is_current) == (2, True)
    assert list(CostEntry.objects.filter(is_current=True).values_list("amount", flat=True)) == [Decimal("11.00")]


def test_database_refuses_negative_amounts():
    with pytest.raises(IntegrityError), transaction.atomic():
        CostEntryFactory(amount=Decimal("-0.01"))


def test_database_refuses_two_current_entries_for_one_key():
    entry = CostEntryFactory(source_key="ledger-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        CostEntryFactory(
            data_product=entry.data_product,
            period_start=entry.period_start,
            category=entry.category,
            source_key="ledger-1",
            revision=2,
        )


def test_entries_with_other_keys_for_one_month_are_allowed():
    entry = CostEntryFactory(source_key="a")
    CostEntryFactory(
        data_product=entry.data_product, period_start=entry.period_start, category=entry.category, source_key="b"
    )
    assert CostEntry.objects.count() == 2


def test_a_cost_correction_follows_the_recording_rules():
    from apps.costs.services import cost_update

    entry = CostEntryFactory(amount=Decimal("10.00"))
    with pytest.raises(ValidationError) as raised:
        cost_update(cost_entry=entry, amount=Decimal("-5"), period_start=date(2026, 1, 3))
    assert set(raised.value.message_dict) == {"amount", "period_start"}
    entry.refresh_from_db()
    assert entry.amount == Decimal("10.00")
    corrected = cost_update(cost_entry=entry, amount=Decimal("12.50"))
    entry.refresh_from_db()
    assert (corrected.amount, corrected.revision, corrected.is_current) == (Decimal("12.50"), 2, True)
    assert (entry.amount, entry.is_current) == (Decimal("10.00"), False)  # kept, no longer current
    assert cost_update(cost_entry=corrected, amount=Decimal("12.50")).pk == corrected.pk  # same figure: nothing


def test_a_row_with_an_unreadable_period_reports_its_other_problems_too():
    from apps.costs.ingest import cost_inputs_from_csv
    from tests.factories import UserFactory

    admin = UserFactory(is_superuser=True, is_staff=True)
    product = DataProductFactory()
    content = f"data_product,period_start,amount,category\n{product.pk},2026-13-45,-5,snacks\n".encode()
    with pytest.raises(BulkValidationError) as raised:
        cost_inputs_from_csv(content, user=admin)
    fields = {(e.row, e.field) for e in raised.value.errors}
    assert {(1, "period_start"), (1, "amount"), (1, "category")} <= fields
