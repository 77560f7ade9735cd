"""Bulk writes and CSV imports: all or nothing, every bad row reported by number, permissions per row."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from apps.costs.models import CostEntry
from apps.kpis.models import Measurement
from apps.usage.models import UsageRecord
from tests import factories


def upload(text: str | bytes, name: str = "upload.csv") -> dict:
    content = text.encode() if isinstance(text, str) else text
    return {"file": SimpleUploadedFile(name, content, content_type="text/csv")}


def row_errors(response) -> dict[int, dict[str, list[str]]]:
    return {entry["row"]: entry["errors"] for entry in response.json()["rows"]}


@pytest.fixture
def own_kpi(own_product):
    kpi = factories.KPIFactory(name="Retained customers", cadence="monthly")
    factories.AttributionFactory(kpi=kpi, data_product=own_product, weight=Decimal("0.5"))
    return kpi


@pytest.fixture
def weekly_kpi(own_product):
    kpi = factories.KPIFactory(name="Weekly orders", cadence="weekly")
    factories.AttributionFactory(kpi=kpi, data_product=own_product, weight=Decimal("0.5"))
    return kpi


@pytest.fixture
def other_kpi(other_product):
    kpi = factories.KPIFactory(name="Orders", cadence="monthly")
    factories.AttributionFactory(kpi=kpi, data_product=other_product, weight=Decimal("1"))
    return kpi


# --- measurements ------------------------------------------------------------------------------


def test_bulk_outcomes_are_stored_and_a_second_value_is_a_correction(as_owner, product_owner, own_kpi):
    factories.MeasurementFactory(kpi=own_kpi, period_start=date(2026, 1, 1), value=Decimal("105"))
    response = as_owner.post(
        "/api/v1/measurements/bulk/?echo=rows",
        [
            {"kpi": own_kpi.pk, "period_start": "2026-01-01", "value": "110.5", "note": "recount"},
            {"kpi": own_kpi.pk, "period_start": "2026-02-01", "value": 120},
        ],
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [(row["period_start"], row["value"], row["revision"], row["is_current"]) for row in body] == [
        ("2026-01-01", "110.5000", 2, True),
        ("2026-02-01", "120.0000", 1, True),
    ]
    assert {row["source"] for row in body} == {"api"}
    assert {row["recorded_by"] for row in body} == {product_owner.pk}
    history = list(
        Measurement.objects.filter(kpi=own_kpi, period_start=date(2026, 1, 1))
        .order_by("revision")
        .values_list("value", "is_current")
    )
    assert history == [(Decimal("105"), False), (Decimal("110.5"), True)]


def test_bulk_outcomes_report_every_bad_row_and_store_none(as_owner, own_kpi, weekly_kpi):
    rows = [
        {"kpi": own_kpi.pk, "period_start": "2026-01-01", "value": "1"},  # 1: fine
        {"kpi": 999_999, "period_start": "2026-01-01", "value": "1"},  # 2: unknown KPI
        {"kpi": own_kpi.pk, "period_start": "2026-01-15", "value": "1"},  # 3: not the 1st of a month
        {"kpi": weekly_kpi.pk, "period_start": "2026-01-07", "value": "1"},  # 4: a Wednesday
        {"kpi": own_kpi.pk, "period_start": "2026-01-01", "value": "lots"},  # 5: not a number
        {"kpi": own_kpi.pk, "period_start": "2026-01-01", "value": "NaN"},  # 6: not finite
        {"kpi": own_kpi.pk, "period_start": "2026-01-01", "value": "Infinity"},  # 7: not finite
        {"kpi": own_kpi.pk, "period_start": "01/02/2026", "value": "1"},  # 8: not ISO
        {"kpi": own_kpi.pk, "value": "1"},  # 9: missing period
        {"kpi": own_kpi.pk, "period_start": "2026-01-01", "value": "1.00001"},  # 10: 5 decimals
        {"kpi": own_kpi.pk, "period_start": "2026-01-01", "value": "1", "colour": "red"},  # 11: unknown field
        "not an object",  # 12
        {"kpi": own_kpi.pk, "period_start": "0001-01-01", "value": "1"},  # 13: date out of range
        {"kpi": "seven", "period_start": "2026-01-01", "value": "1"},  # 14: not an id
        {"kpi": own_kpi.pk, "period_start": "2026-01-01", "value": "1e30"},  # 15: too many digits
        {"kpi": own_kpi.pk, "period_start": "2026-01-20", "value": "x"},  # 16: two problems
    ]
    response = as_owner.post("/api/v1/measurements/bulk/", rows, format="json")
    assert response.status_code == 400
    errors = row_errors(response)
    assert sorted(errors) == list(range(2, 17))
    assert errors[2] == {"kpi": ["KPI 999999 does not exist."]}
    assert "does not start a monthly period" in errors[3]["period_start"][0]
    assert "2026-01-01" in errors[3]["period_start"][0]
    assert "does not start a weekly period" in errors[4]["period_start"][0]
    assert "not a number" in errors[5]["value"][0]
    assert errors[6] == {"value": ["Enter a finite number."]}
    assert errors[7] == {"value": ["Enter a finite number."]}
    assert "YYYY-MM-DD" in errors[8]["period_start"][0]
    assert errors[9] == {"period_start": ["This field is required."]}
    assert "4 decimal places" in errors[10]["value"][0]
    assert "colour" in errors[11]["row"][0]
    assert "object" in errors[12]["row"][0]
    assert "between 1900-01-01" in errors[13]["period_start"][0]
    assert "integer id" in errors[14]["kpi"][0]
    assert "digits before the decimal point" in errors[15]["value"][0]
    assert set(errors[16]) == {"period_start", "value"}  # every problem of a row, not just the first
    assert "nothing was stored" in response.json()["detail"]
    assert Measurement.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [({"kpi": 1}, "JSON list"), ("just text", "JSON list")],
)
def test_bulk_body_must_be_a_list(as_owner, body, message):
    response = as_owner.post("/api/v1/measurements/bulk/", body, format="json")
    assert response.status_code == 400
    assert message in row_errors(response)[0]["rows"][0]


def test_bulk_empty_list_stores_nothing_and_succeeds(as_owner):
    response = as_owner.post("/api/v1/measurements/bulk/", [], format="json")
    assert response.status_code == 201
    assert response.json() == {"received": 0, "stored": 0, "corrections": 0, "unchanged": 0, "ids": []}
    assert as_owner.post("/api/v1/measurements/bulk/?echo=rows", [], format="json").json() == []


def test_bulk_outcomes_answer_a_summary_with_the_id_of_each_row(as_owner, own_kpi):
    stored = factories.MeasurementFactory(kpi=own_kpi, period_start=date(2026, 1, 1), value=Decimal("105"), note="")
    old = factories.MeasurementFactory(kpi=own_kpi, period_start=date(2026, 2, 1), value=Decimal("7"), note="")
    rows = [
        {"kpi": own_kpi.pk, "period_start": "2026-01-01", "value": "105.0"},  # the same value: unchanged
        {"kpi": own_kpi.pk, "period_start": "2026-02-01", "value": "8"},  # a correction
        {"kpi": own_kpi.pk, "period_start": "2026-03-01", "value": "9"},  # new
        {"kpi": own_kpi.pk, "period_start": "2026-03-01", "value": "9"},  # the row before, again: unchanged
        {"kpi": own_kpi.pk, "period_start": "2026-03-01", "value": "9", "note": "checked"},  # a correction
    ]
    response = as_owner.post("/api/v1/measurements/bulk/", rows, format="json")
    assert response.status_code == 201, response.content
    summary = response.json()
    assert {key: summary[key] for key in ("received", "stored", "corrections", "unchanged")} == {
        "received": 5,
        "stored": 3,
        "corrections": 2,
        "unchanged": 2,
    }
    ids = summary["ids"]
    assert ids[0] == stored.pk
    assert ids[3] == ids[2]
    by_id = {m.pk: m for m in Measurement.objects.filter(kpi=own_kpi)}
    assert (by_id[ids[1]].revision, by_id[ids[1]].is_current, by_id[ids[1]].value) == (2, True, Decimal("8"))
    assert (by_id[ids[2]].revision, by_id[ids[2]].is_current) == (1, False)
    assert (by_id[ids[4]].revision, by_id[ids[4]].is_current, by_id[ids[4]].note) == (2, True, "checked")
    old.refresh_from_db()
    assert not old.is_current
    assert Measurement.objects.filter(kpi=own_kpi).count() == 5  # two before, three stored

    again = as_owner.post("/api/v1/measurements/bulk/", [rows[0], rows[1], rows[4]], format="json").json()
    assert (again["stored"], again["unchanged"]) == (0, 3)  # sending it again changes nothing
    assert again["ids"] == [ids[0], ids[1], ids[4]]


def test_bulk_outcomes_echo_the_rows_in_the_order_sent_when_asked(as_owner, own_kpi):
    rows = [
        {"kpi": own_kpi.pk, "period_start": "2026-02-01", "value": "2"},
        {"kpi": own_kpi.pk, "period_start": "2026-01-01", "value": "1"},
    ]
    response = as_owner.post("/api/v1/measurements/bulk/?echo=rows", rows, format="json")
    assert response.status_code == 201
    assert [(row["period_start"], row["value"]) for row in response.json()] == [
        ("2026-02-01", "2.0000"),
        ("2026-01-01", "1.0000"),
    ]


@pytest.mark.parametrize("query", ["echo=all", "echo=", "echo=rows&echo=rows"])
def test_bulk_refuses_an_unknown_echo_and_stores_nothing(as_owner, own_kpi, query):
    rows = [{"kpi": own_kpi.pk, "period_start": "2026-01-01", "value": "1"}]
    response = as_owner.post(f"/api/v1/measurements/bulk/?{query}", rows, format="json")
    assert response.status_code == 400
    assert "echo" in response.json()
    assert Measurement.objects.count() == 0


def test_bulk_with_a_refused_row_is_403_before_a_bad_echo(as_owner, other_kpi):
    rows = [{"kpi": other_kpi.pk, "period_start": "2026-01-01", "value": "1"}]
    response = as_owner.post("/api/v1/measurements/bulk/?echo=all", rows, format="json")
    assert response.status_code == 403


@override_settings(MESHVALUE_MAX_IMPORT_ROWS=3)
def test_bulk_refuses_more_rows_than_configured(as_owner, own_kpi):
    row = {"kpi": own_kpi.pk, "period_start": "2026-01-01", "value": "1"}
    response = as_owner.post("/api/v1/measurements/bulk/", [row] * 4, format="json")
    assert response.status_code == 400
    assert "at most 3 rows" in row_errors(response)[0]["rows"][0]
    assert Measurement.objects.count() == 0


def test_bulk_with_a_row_of_another_owners_kpi_is_refused_whole(as_owner, own_kpi, other_kpi):
    rows = [
        {"kpi": own_kpi.pk, "period_start": "2026-01-01", "value": "1"},
        {"kpi": other_kpi.pk, "period_start": "2026-01-01", "value": "1"},
        {"kpi": own_kpi.pk, "period_start": "2026-01-05", "value": "1"},
    ]
    response = as_owner.post("/api/v1/measurements/bulk/", rows, format="json")
    assert response.status_code == 403
    errors = row_errors(response)
    # The permission problem and the other bad rows are all reported at once.
    assert "attributed to no product of yours" in errors[2]["kpi"][0]
    assert "period_start" in errors[3]
    assert 1 not in errors
    assert Measurement.objects.count() == 0


def test_single_outcome_of_another_owners_kpi_is_403(as_owner, other_kpi):
    response = as_owner.post(
        "/api/v1/measurements/", {"kpi": other_kpi.pk, "period_start": "2026-01-01", "value": "1"}, format="json"
    )
    assert response.status_code == 403
    assert Measurement.objects.count() == 0


def test_single_outcome_gets_a_message_per_field(as_owner, own_kpi):
    response = as_owner.post(
        "/api/v1/measurements/", {"kpi": own_kpi.pk, "period_start": "2026-01-31", "value": "NaN"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"value"}  # DRF rejects the value before the service sees the period
    response = as_owner.post(
        "/api/v1/measurements/", {"kpi": own_kpi.pk, "period_start": "2026-01-31", "value": "3"}, format="json"
    )
    assert response.status_code == 400
    assert "does not start a monthly period" in response.json()["period_start"][0]


def test_csv_import_of_outcomes(as_owner, own_kpi):
    content = "\ufeffKPI, Period_Start ,value,note\n" + (
        f'{own_kpi.pk},2026-01-01,101.25,first\n\n{own_kpi.pk},2026-02-01,102,"second, with a comma"\n'
    )
    response = as_owner.post("/api/v1/measurements/import/", upload(content), format="multipart")
    assert response.status_code == 201, response.content
    assert {key: value for key, value in response.json().items() if key != "ids"} == {
        "received": 2,
        "stored": 2,
        "corrections": 0,
        "unchanged": 0,
    }
    stored = list(Measurement.objects.order_by("period_start").values_list("value", "note", "source"))
    assert sorted(response.json()["ids"]) == sorted(Measurement.objects.values_list("id", flat=True))
    assert stored == [
        (Decimal("101.25"), "first", "csv"),
        (Decimal("102"), "second, with a comma", "csv"),
    ]


def test_csv_import_reports_every_bad_row_by_number(as_owner, own_kpi):
    content = (
        "kpi,period_start,value\n"
        f"{own_kpi.pk},2026-01-01,1\n"
        f"{own_kpi.pk},2026-01-02,1\n"  # row 2
        f"{own_kpi.pk},2026-02-01,\n"  # row 3: empty value
        f"{own_kpi.pk},2026-03-01,1,extra\n"  # row 4: one value too many
        "12345678,2026-03-01,1\n"  # row 5: unknown KPI
    )
    response = as_owner.post("/api/v1/measurements/import/", upload(content), format="multipart")
    assert response.status_code == 400
    errors = row_errors(response)
    assert sorted(errors) == [2, 3, 4, 5]
    assert errors[3] == {"value": ["This field is required."]}
    assert "header has 3 columns" in errors[4]["row"][0]
    assert Measurement.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "field", "message"),
    [
        ("kpi,value\n1,2\n", "columns", "Missing column(s): period_start"),
        ("kpi,period_start,value,colour\n", "columns", "Unknown column(s): colour"),
        ("kpi,kpi,period_start,value\n", "columns", "more than once: kpi"),
        ("", "file", "The file is empty"),
        ("kpi;period_start;value\n1;2026-01-01;3\n", "columns", "Missing column(s)"),
        ("kpi,period_start,value,note\n1,2026-01-01,3,caf\xe9\n".encode("latin-1"), "file", "not UTF-8"),
        (b"kpi,period_start,value\n\x00\x00\n", "file", "NUL"),
    ],
)
def test_csv_import_refuses_files_that_cannot_be_read(as_owner, content, field, message):
    response = as_owner.post("/api/v1/measurements/import/", upload(content), format="multipart")
    assert response.status_code == 400
    errors = row_errors(response)
    assert list(errors) == [0]
    assert any(message in text for text in errors[0][field]), errors


@override_settings(MESHVALUE_MAX_IMPORT_ROWS=2)
def test_csv_import_refuses_more_rows_than_configured(as_owner, own_kpi):
    content = "kpi,period_start,value\n" + f"{own_kpi.pk},2026-01-01,1\n" * 3
    response = as_owner.post("/api/v1/measurements/import/", upload(content), format="multipart")
    assert response.status_code == 400
    assert "more than 2 rows" in row_errors(response)[0]["file"][0]
    assert Measurement.objects.count() == 0


def test_csv_import_needs_a_file(as_owner):
    response = as_owner.post("/api/v1/measurements/import/", {"other": "x"}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


def test_csv_import_of_another_owners_kpi_is_403(as_owner, other_kpi):
    content = f"kpi,period_start,value\n{other_kpi.pk},2026-01-01,1\n"
    response = as_owner.post("/api/v1/measurements/import/", upload(content), format="multipart")
    assert response.status_code == 403
    assert "attributed to no product of yours" in row_errors(response)[1]["kpi"][0]
    assert Measurement.objects.count() == 0


# --- costs -------------------------------------------------------------------------------------


def test_bulk_costs_report_every_bad_row(as_owner, own_product):
    rows = [
        {"data_product": own_product.pk, "period_start": "2026-01-01", "amount": "100.00"},
        {"data_product": own_product.pk, "period_start": "2026-01-01", "amount": "-5"},
        {"data_product": own_product.pk, "period_start": "2026-01-01", "amount": "10", "currency": "USD"},
        {"data_product": own_product.pk, "period_start": "2026-01-10", "amount": "10"},
        {"data_product": own_product.pk, "period_start": "2026-01-01", "amount": "10.005"},
        {"data_product": own_product.pk, "period_start": "2026-01-01", "amount": "10", "category": "snacks"},
        {"data_product": 424242, "period_start": "2026-01-01", "amount": "10"},
        {"data_product": own_product.pk, "period_start": "2026-01-01", "amount": "-Infinity"},
        {"data_product": 424242, "period_start": "2026-01-03", "amount": "x", "currency": "GBP"},
    ]
    response = as_owner.post("/api/v1/costs/bulk/", rows, format="json")
    assert response.status_code == 400
    errors = row_errors(response)
    assert sorted(errors) == [2, 3, 4, 5, 6, 7, 8, 9]
    assert errors[2] == {"amount": ["A cost cannot be negative."]}
    assert "records costs in EUR; got USD" in errors[3]["currency"][0]
    assert "does not start a monthly period" in errors[4]["period_start"][0]
    assert "2 decimal places" in errors[5]["amount"][0]
    assert "Choose one of" in errors[6]["category"][0]
    assert errors[7] == {"data_product": ["Data product 424242 does not exist."]}
    assert errors[8] == {"amount": ["Enter a finite number."]}
    assert set(errors[9]) == {"data_product", "period_start", "amount", "currency"}
    assert CostEntry.objects.count() == 0


def test_cost_import_twice_changes_nothing_the_second_time(as_owner, own_product):
    content = (
        "data_product,period_start,amount,currency,category,note,external_id\n"
        f"{own_product.pk},2026-01-01,1200.50,EUR,infrastructure,cluster,INV-1\n"
        f"{own_product.pk},2026-01-01,300,,people,,INV-2\n"
    )
    first = as_owner.post("/api/v1/costs/import/", upload(content), format="multipart")
    assert first.status_code == 201, first.content
    assert {key: value for key, value in first.json().items() if key != "ids"} == {
        "received": 2,
        "stored": 2,
        "corrections": 0,
        "unchanged": 0,
    }
    second = as_owner.post("/api/v1/costs/import/?echo=rows", upload(content), format="multipart")
    assert second.status_code == 201
    assert [row["id"] for row in second.json()] == first.json()["ids"]
    third = as_owner.post("/api/v1/costs/import/", upload(content), format="multipart").json()
    assert (third["stored"], third["unchanged"], third["ids"]) == (0, 2, first.json()["ids"])
    assert list(CostEntry.objects.order_by("external_id").values_list("amount", "currency", "category")) == [
        (Decimal("1200.50"), "EUR", "infrastructure"),
        (Decimal("300.00"), "EUR", "people"),
    ]


def test_cost_reimport_with_other_figures_is_a_new_revision(as_owner, own_product):
    old = factories.CostEntryFactory(
        data_product=own_product, external_id="INV-1", amount=Decimal("10.00"), category="other"
    )
    content = f"data_product,period_start,amount,external_id\n{own_product.pk},2026-01-01,99,INV-1\n"
    response = as_owner.post("/api/v1/costs/import/?echo=rows", upload(content), format="multipart")
    assert response.status_code == 201
    assert (response.json()[0]["revision"], response.json()[0]["is_current"]) == (2, True)
    old.refresh_from_db()
    assert (old.amount, old.is_current) == (Decimal("10.00"), False)  # kept as history
    assert CostEntry.objects.get(is_current=True).amount == Decimal("99.00")
    restated = content.replace(",99,", ",98,")
    summary = as_owner.post("/api/v1/costs/import/", upload(restated), format="multipart").json()
    assert (summary["stored"], summary["corrections"], summary["unchanged"]) == (1, 1, 0)


def test_bulk_costs_of_another_owners_product_are_403(as_owner, own_product, other_product):
    rows = [
        {"data_product": own_product.pk, "period_start": "2026-01-01", "amount": "1"},
        {"data_product": other_product.pk, "period_start": "2026-01-01", "amount": "1"},
    ]
    response = as_owner.post("/api/v1/costs/bulk/", rows, format="json")
    assert response.status_code == 403
    assert list(row_errors(response)) == [2]
    assert CostEntry.objects.count() == 0


def test_single_cost_with_a_message_per_field(as_owner, own_product):
    response = as_owner.post(
        "/api/v1/costs/",
        {"data_product": own_product.pk, "period_start": "2026-01-02", "amount": "-1", "currency": "GBP"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"period_start", "amount", "currency"}


# --- usage -------------------------------------------------------------------------------------


def test_usage_upsert_replaces_the_count_of_a_known_day(as_owner, own_product):
    rows = [
        {"data_product": own_product.pk, "consumer": "finance", "day": "2026-02-03", "count": 4},
        {"data_product": own_product.pk, "consumer": "owner", "day": "2026-02-03", "count": 1},
    ]
    first = as_owner.post("/api/v1/usage/", rows, format="json")
    assert first.status_code == 201, first.content
    stored = dict(UsageRecord.objects.values_list("consumer", "id"))
    assert first.json() == {
        "received": 2,
        "stored": 2,
        "corrections": 0,
        "unchanged": 0,
        "ids": [stored["finance"], stored["owner"]],
    }
    rows[0]["count"] = 9
    rows.append({"data_product": own_product.pk, "consumer": "finance", "day": "2026-02-04", "count": 2})
    second = as_owner.post("/api/v1/usage/", rows, format="json")
    assert second.status_code == 201
    answer = second.json()
    assert (answer["received"], answer["stored"], answer["corrections"], answer["unchanged"]) == (3, 2, 1, 1)
    assert answer["ids"][:2] == first.json()["ids"]
    assert UsageRecord.objects.get(pk=answer["ids"][2]).day == date(2026, 2, 4)
    assert sorted(UsageRecord.objects.values_list("consumer", "day", "count")) == [
        ("finance", date(2026, 2, 3), 9),
        ("finance", date(2026, 2, 4), 2),
        ("owner", date(2026, 2, 3), 1),
    ]


def test_usage_echoes_its_records_only_when_asked(as_owner, own_product, other_product):
    rows = [{"data_product": own_product.pk, "consumer": "finance", "day": "2026-02-03", "count": 4}]
    echoed = as_owner.post("/api/v1/usage/?echo=rows", rows, format="json")
    assert echoed.status_code == 201, echoed.content
    record = UsageRecord.objects.get()
    assert echoed.json() == [
        {"id": record.pk, "data_product": own_product.pk, "consumer": "finance", "day": "2026-02-03", "count": 4}
    ]

    rows[0]["count"] = 5
    refused = as_owner.post("/api/v1/usage/?echo=all", rows, format="json")
    assert refused.status_code == 400
    assert set(refused.json()) == {"echo"}
    # Permission first: another owner's product is a 403 whatever the echo.
    other = [{"data_product": other_product.pk, "consumer": "x", "day": "2026-02-03", "count": 1}]
    assert as_owner.post("/api/v1/usage/?echo=all", other, format="json").status_code == 403
    assert list(UsageRecord.objects.values_list("count", flat=True)) == [4]


def test_usage_rows_are_checked(as_owner, own_product, other_product):
    rows = [
        {"data_product": own_product.pk, "consumer": "finance", "day": "2026-02-03", "count": 4},
        {"data_product": own_product.pk, "consumer": "finance", "day": "2026-02-03", "count": 5},
        {"data_product": own_product.pk, "consumer": "", "day": "2026-02-03", "count": 1},
        {"data_product": own_product.pk, "consumer": "x", "day": "2026-02-30", "count": -1},
        {"data_product": own_product.pk, "consumer": "x", "day": "2026-02-03", "count": 1.5},
    ]
    response = as_owner.post("/api/v1/usage/", rows, format="json")
    assert response.status_code == 400
    errors = row_errors(response)
    assert sorted(errors) == [2, 3, 4, 5]
    assert "already in row 1" in errors[2]["consumer"][0]
    assert errors[3] == {"consumer": ["This field is required."]}
    assert set(errors[4]) == {"day", "count"}
    assert "whole number" in errors[5]["count"][0]
    assert UsageRecord.objects.count() == 0

    rows = [{"data_product": other_product.pk, "consumer": "x", "day": "2026-02-03", "count": 1}]
    assert as_owner.post("/api/v1/usage/", rows, format="json").status_code == 403
    assert UsageRecord.objects.count() == 0


# --- the single POST: corrections and permission before validation (DESIGN.md v2) --------------


def test_a_plain_post_of_a_period_already_recorded_is_a_correction(as_owner, own_kpi):
    first = as_owner.post(
        "/api/v1/measurements/", {"kpi": own_kpi.pk, "period_start": "2026-03-01", "value": "10"}, format="json"
    )
    assert first.status_code == 201, first.json()
    second = as_owner.post(
        "/api/v1/measurements/", {"kpi": own_kpi.pk, "period_start": "2026-03-01", "value": "12"}, format="json"
    )
    assert second.status_code == 201, second.json()
    assert (second.json()["revision"], second.json()["is_current"]) == (2, True)
    history = list(
        Measurement.objects.filter(kpi=own_kpi).order_by("revision").values_list("value", "revision", "is_current")
    )
    assert history == [(Decimal("10"), 1, False), (Decimal("12"), 2, True)]


@pytest.mark.parametrize(
    "body",
    [
        {"period_start": "2026-03-01", "value": "12"},  # valid
        {"period_start": "2026-03-02", "value": "12"},  # misaligned period
        {"period_start": "not a date", "value": "abc"},  # nothing valid but the KPI
    ],
)
def test_a_post_to_another_owners_kpi_is_refused_403_whatever_else_is_wrong(as_owner, other_kpi, body):
    response = as_owner.post("/api/v1/measurements/", {"kpi": other_kpi.pk, **body}, format="json")
    assert response.status_code == 403, response.json()
    assert not Measurement.objects.filter(kpi=other_kpi).exists()


def test_a_post_naming_no_kpi_that_exists_is_a_400(as_owner):
    response = as_owner.post(
        "/api/v1/measurements/", {"kpi": 999999, "period_start": "2026-03-01", "value": "1"}, format="json"
    )
    assert response.status_code == 400
    assert "kpi" in response.json()


@pytest.mark.parametrize("amount", ["1_000", "\uff11\uff10\uff10\uff10", "1e3", "+5", " 1 000", "\u0663"])
def test_single_cost_refuses_amounts_that_are_not_plain_ascii_digits(as_owner, own_product, amount):
    response = as_owner.post(
        "/api/v1/costs/",
        {"data_product": own_product.pk, "period_start": "2026-01-01", "amount": amount},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["amount"]
    assert CostEntry.objects.count() == 0


@pytest.mark.parametrize(("amount", "stored"), [("1000", "1000"), ("12.50", "12.50"), (" 7.5 ", "7.50"), (3, "3")])
def test_single_cost_accepts_plain_amounts(as_owner, own_product, amount, stored):
    response = as_owner.post(
        "/api/v1/costs/",
        {"data_product": own_product.pk, "period_start": "2026-01-01", "amount": amount},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert CostEntry.objects.get().amount == Decimal(stored)


@pytest.mark.parametrize("amount", ["1_000", "\uff11\uff10\uff10\uff10"])
def test_bulk_costs_refuse_underscores_and_full_width_digits(as_owner, own_product, amount):
    rows = [{"data_product": own_product.pk, "period_start": "2026-01-01", "amount": amount}]
    response = as_owner.post("/api/v1/costs/bulk/", rows, format="json")
    assert response.status_code == 400
    assert "digits 0-9 only" in row_errors(response)[1]["amount"][0]
    assert CostEntry.objects.count() == 0
