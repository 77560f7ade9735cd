"""FOCUS imports of the official sample: allocation by rules against an independent computation,
credits, zero-effective lines, restatement, re-import, non-FOCUS files, missing exchange rates."""

from __future__ import annotations

import csv
import fnmatch
import gzip
import json
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import duckdb
import pytest
from django.core.management import CommandError, call_command

from apps.costs import allocation as alloc
from apps.costs.imports import cost_import_create, cost_import_preview, cost_import_reapply, cost_import_run
from apps.costs.models import (
    AllocationRule,
    AllocationTarget,
    CostEntry,
    CostImport,
    CostImportAggregate,
    CostSource,
    ExchangeRate,
)
from tests.factories import DataProductFactory

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "focus" / "focus_sample.csv"
SEPTEMBER = date(2024, 9, 1)
RATE = Decimal("0.92")
CENTS = Decimal("0.01")


@pytest.fixture
def products():
    return {
        slug: DataProductFactory(slug=slug, name=slug.title()) for slug in ("matrix", "compute", "azure-a", "azure-b")
    }


@pytest.fixture
def rules(products):
    """Tag value exact, sub account, a tag key with stray spaces and case plus a glob, a fixed split."""
    made = [
        ("PeoriaData", {"tag_key": "business_unit", "tag_value": "PeoriaData"}, "single", [("matrix", None)]),
        ("Compute account", {"sub_account_id": "11353890204"}, "single", [("compute", None)]),
        (
            "Trey org",
            {"tag_key": " ORG ", "tag_value": "tr*"},
            "fixed",
            [("azure-a", Decimal("0.25")), ("azure-b", Decimal("0.75"))],
        ),
    ]
    for position, (name, conditions, split, targets) in enumerate(made, start=1):
        rule = AllocationRule.objects.create(name=name, position=position, split=split, **conditions)
        for slug, weight in targets:
            AllocationTarget.objects.create(rule=rule, data_product=products[slug], weight=weight)
    return made


@pytest.fixture
def usd_rate():
    return ExchangeRate.objects.create(currency="USD", month=SEPTEMBER, rate=RATE)


def _tags(text: str) -> dict[str, str]:
    if not text or text == "NULL":
        return {}
    parsed = json.loads(text)
    tags: dict[str, str] = {}
    for key, value in parsed.items():
        tags.setdefault(key.strip().lower(), value)
    return tags


def independent(path: Path, rules) -> tuple[dict[tuple[str, str], Decimal], Decimal, dict]:
    """The expected allocation, computed with the csv module and Decimal only."""
    per_product: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    unallocated = Decimal(0)
    facts = {"lines": 0, "zero_effective": 0, "effective": Decimal(0), "billed": Decimal(0), "credit": Decimal(0)}
    with open(path, newline="", encoding="utf-8") as handle:
        for line in csv.DictReader(handle):
            effective, billed = Decimal(line["EffectiveCost"]), Decimal(line["BilledCost"])
            facts["lines"] += 1
            facts["effective"] += effective
            facts["billed"] += billed
            facts["zero_effective"] += effective == 0 and billed != 0
            category = {"tax": "other", "credit": "credit"}.get(
                line["ChargeCategory"].strip().lower(), "infrastructure"
            )
            if category == "credit":
                facts["credit"] += effective
            tags = _tags(line["Tags"])
            amount = effective * RATE
            for _, conditions, _, targets in rules:
                if "tag_key" in conditions:
                    value = tags.get(conditions["tag_key"].strip().lower())
                    if value is None or not fnmatch.fnmatchcase(value, conditions["tag_value"]):
                        continue
                if "sub_account_id" in conditions and line["SubAccountId"] != conditions["sub_account_id"]:
                    continue
                for slug, weight in targets:
                    per_product[(slug, category)] += amount * (weight or 1)
                break
            else:
                unallocated += amount
    rounded = {key: value.quantize(CENTS, rounding=ROUND_HALF_EVEN) for key, value in per_product.items()}
    return rounded, unallocated.quantize(CENTS, rounding=ROUND_HALF_EVEN), facts


def _import(path: Path) -> CostImport:
    cost_import = cost_import_create(file_name=path.name, file_path=path, dispatch=False)
    return cost_import_run(import_id=cost_import.pk, remove_file=False)


def _current() -> dict[tuple[str, str], Decimal]:
    return {
        (entry.data_product.slug, entry.category): entry.amount
        for entry in CostEntry.objects.filter(is_current=True).select_related("data_product")
    }


def test_the_sample_is_allocated_like_an_independent_computation(products, rules, usd_rate):
    expected, expected_unallocated, facts = independent(SAMPLE, rules)
    cost_import = _import(SAMPLE)

    assert cost_import.status == "succeeded", cost_import.errors
    assert _current() == expected
    assert cost_import.unallocated == expected_unallocated
    assert cost_import.rows_read == facts["lines"] == 1000
    assert cost_import.zero_effective_lines == facts["zero_effective"] == 610
    assert cost_import.total_effective == facts["effective"]
    assert cost_import.total_billed == facts["billed"]
    assert cost_import.billing_currency == "USD"
    assert any("610 lines have an EffectiveCost of 0" in warning for warning in cost_import.warnings)
    # The one credit line (-3.00 USD) is a credit entry <= 0 of the account's product.
    assert facts["credit"] == Decimal("-3")
    assert expected[("compute", "credit")] == Decimal("-2.76")
    credit = CostEntry.objects.get(data_product=products["compute"], category="credit")
    assert (credit.amount, credit.source, credit.cost_import_id) == (Decimal("-2.76"), CostSource.FOCUS, cost_import.pk)
    assert credit.source_key == "focus:1234567890123:11353890204"  # the rule matched on the sub account
    # Reconciliation: allocated + unallocated is the converted bill, to the cent per entry.
    month = cost_import.result["months"][0]
    assert month["month"] == "2024-09-01"
    converted = (facts["effective"] * RATE).quantize(CENTS)
    assert abs(Decimal(month["allocated"]) + Decimal(month["unallocated"]) - converted) <= CENTS * len(expected)
    # Raw lines are not stored: the sums by allocation key are.
    assert CostImportAggregate.objects.filter(cost_import=cost_import).count() < 1000
    assert sum(a.lines for a in CostImportAggregate.objects.filter(cost_import=cost_import)) == 1000
    accounts = {row["billing_account"] for row in cost_import.result["unallocated_by_account"]}
    assert "20209880" in accounts  # the Oracle lines matched no rule


def test_reimporting_the_same_file_changes_nothing(products, rules, usd_rate):
    _import(SAMPLE)
    before = list(CostEntry.objects.order_by("pk").values_list("pk", "amount", "revision", "is_current"))
    again = _import(SAMPLE)
    assert again.status == "succeeded"
    assert again.result["revisions_created"] == 0
    assert list(CostEntry.objects.order_by("pk").values_list("pk", "amount", "revision", "is_current")) == before


def _restated(tmp_path: Path) -> Path:
    """The sample with the PeoriaData lines doubled and timestamps written `2024-09-01T00:00:00Z`."""
    target = tmp_path / "restated.csv"
    with open(SAMPLE, newline="", encoding="utf-8") as source, open(target, "w", newline="", encoding="utf-8") as out:
        reader = csv.DictReader(source)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames)
        writer.writeheader()
        for line in reader:
            if "PeoriaData" in (line["Tags"] or ""):
                line["EffectiveCost"] = str(Decimal(line["EffectiveCost"]) * 2)
            line["ChargePeriodStart"] = line["ChargePeriodStart"].replace(" ", "T") + "Z"
            writer.writerow(line)
    return target


def test_a_restated_month_changes_only_the_totals_that_changed(products, rules, usd_rate, tmp_path):
    _import(SAMPLE)
    before = _current()
    restated = _import(_restated(tmp_path))
    assert restated.status == "succeeded", restated.errors
    after = _current()
    assert after[("matrix", "infrastructure")] == before[("matrix", "infrastructure")] * 2
    assert {k: v for k, v in after.items() if k[0] != "matrix"} == {k: v for k, v in before.items() if k[0] != "matrix"}
    history = CostEntry.objects.filter(data_product=products["matrix"], category="infrastructure").order_by("revision")
    assert [(e.revision, e.is_current, e.cost_import_id) for e in history] == [
        (1, False, history[0].cost_import_id),
        (2, True, restated.pk),
    ]
    assert restated.result["revisions_created"] == 1


def test_gzip_and_parquet_read_the_same_as_csv(products, rules, usd_rate, tmp_path):
    gz = tmp_path / "focus.csv.gz"
    with open(SAMPLE, "rb") as source, gzip.open(gz, "wb") as out:
        out.write(source.read())
    parquet = tmp_path / "focus.parquet"
    duckdb.sql(
        f"COPY (SELECT * FROM read_csv('{SAMPLE}', header=true, nullstr='NULL')) TO '{parquet}' (FORMAT parquet)"
    )
    first = _import(SAMPLE)
    for path in (gz, parquet):
        other = _import(path)
        assert other.status == "succeeded", other.errors
        assert (other.rows_read, other.total_effective, other.total_billed) == (
            first.rows_read,
            first.total_effective,
            first.total_billed,
        )
        assert other.result["revisions_created"] == 0


def test_a_file_that_is_not_focus_is_refused_naming_the_missing_columns(tmp_path, usd_rate):
    path = tmp_path / "costs.csv"
    path.write_text("data_product,period_start,amount\n1,2024-09-01,10\n")
    cost_import = _import(path)
    assert cost_import.status == "failed"
    message = cost_import.errors[0]
    for column in ("BilledCost", "EffectiveCost", "ChargePeriodStart", "BillingCurrency"):
        assert column in message
    assert not CostEntry.objects.exists()


def test_a_month_without_an_exchange_rate_refuses_the_import(products, rules):
    cost_import = _import(SAMPLE)
    assert cost_import.status == "failed"
    assert cost_import.errors == ["No exchange rate from USD to EUR for 2024-09: add one before importing this file."]
    assert not CostEntry.objects.exists()
    assert not CostImportAggregate.objects.exists()


def test_malformed_cells_are_reported_by_line_and_nothing_is_stored(products, rules, usd_rate, tmp_path):
    with open(SAMPLE, newline="", encoding="utf-8") as source:
        reader = csv.DictReader(source)
        fieldnames, rows = reader.fieldnames, list(reader)
    rows[3]["BilledCost"] = "zero"  # line 5 (the header is line 1)
    rows[8]["ChargePeriodStart"] = "2024-13-01 00:00:00"  # line 10
    path = tmp_path / "broken.csv"
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    cost_import = _import(path)
    assert cost_import.status == "failed"
    assert [error.split(":")[0] for error in cost_import.errors] == ["Line 5", "Line 10"]
    assert "'zero' is not a number" in cost_import.errors[0]
    assert not CostEntry.objects.exists()


def test_preview_and_reapply_use_the_stored_sums(products, rules, usd_rate):
    cost_import = _import(SAMPLE)
    everything_to_matrix = [
        alloc.Rule(position=1, name="all AWS", targets=((products["matrix"].pk, None),), sub_account_id="11353890204")
    ]
    preview = cost_import_preview(rules=everything_to_matrix)
    assert preview["cost_import"] == cost_import.pk
    assert {row["name"] for row in preview["allocated"]} == {"Matrix"}
    assert CostEntry.objects.filter(is_current=True).count() == len(_current())  # preview wrote nothing

    AllocationRule.objects.filter(name="PeoriaData").delete()
    reapplied = cost_import_reapply(cost_import=cost_import)
    after = _current()
    # The PeoriaData lines now fall to the next rules; matrix's old total is zeroed, not left behind.
    assert after[("matrix", "infrastructure")] == Decimal("0.00")
    assert reapplied.result["zeroed"] == 1


def test_import_costs_command_dry_run_stores_nothing(products, rules, usd_rate, capsys):
    call_command("import_costs", str(SAMPLE), "--dry-run")
    out = capsys.readouterr().out
    assert "Lines read: 1000" in out and "Dry run" in out
    assert not CostEntry.objects.exists() and not CostImport.objects.exists()
    call_command("import_costs", str(SAMPLE))
    assert CostEntry.objects.filter(source="focus").exists()


def test_import_costs_command_fails_with_a_clear_line(tmp_path, usd_rate):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(CommandError, match="BilledCost"):
        call_command("import_costs", str(path))
