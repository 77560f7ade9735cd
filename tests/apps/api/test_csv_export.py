"""`?format=csv` on list endpoints: the whole filtered list, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from apps.core.api.renderers import csv_cell
from tests import factories


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("-12.50", "-12.50"),  # a plain number stays a number
        ("+3", "+3"),
        ("1e5", "1e5"),
        ("plain text", "plain text"),
        (None, ""),
        (True, "true"),
        ([1, 2], "[1,2]"),
        ({"kind": "stale_kpi"}, '{"kind":"stale_kpi"}'),
        (Decimal("-5.00"), "-5.00"),
    ],
)
def test_csv_cell_escapes_formulas(value, cell):
    assert csv_cell(value) == cell


def _rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_costs_export_is_the_whole_filtered_list(as_executive, own_product, other_product):
    for month in range(1, 8):
        factories.CostEntryFactory(data_product=own_product, period_start=f"2026-{month:02d}-01", note="=1+1")
    factories.CostEntryFactory(data_product=other_product)
    response = as_executive.get(f"/api/v1/costs/?format=csv&page_size=2&data_product={own_product.pk}")
    assert 'filename="costs.csv"' in response["Content-Disposition"]
    rows = _rows(response)
    assert len(rows) == 7  # not paginated, and filtered
    assert list(rows[0]) == [
        "id",
        "data_product",
        "period_start",
        "amount",
        "currency",
        "category",
        "note",
        "external_id",
        "source",
        "source_key",
        "revision",
        "is_current",
        "cost_import",
        "recorded_by",
        "recorded_at",
    ]
    assert {row["data_product"] for row in rows} == {str(own_product.pk)}
    assert {row["note"] for row in rows} == {"'=1+1"}
    assert rows[0]["amount"] == "1000.00"


def test_kpi_export_carries_attributions_as_json(as_executive, own_product):
    kpi = factories.KPIFactory(name="@risk")
    factories.AttributionFactory(kpi=kpi, data_product=own_product, weight=Decimal("0.5"))
    rows = _rows(as_executive.get("/api/v1/kpis/?format=csv"))
    assert rows[0]["name"] == "'@risk"
    assert rows[0]["attributions"] == f'[{{"data_product":{own_product.pk},"weight":"0.5000"}}]'


def test_csv_export_requires_a_role(api_client):
    assert api_client.get("/api/v1/costs/?format=csv").status_code == 401


def test_csv_of_one_record(as_executive, own_product):
    response = as_executive.get(f"/api/v1/data-products/{own_product.pk}/?format=csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["slug"] for row in rows] == ["churn-features"]
