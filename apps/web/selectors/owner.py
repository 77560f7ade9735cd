"""Reads of the product owner's pages: a product's KPIs to link, its costs with their history, its shortcuts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

from apps.catalog.models import BusinessGoal, ConsciousDebt, DataProduct, Domain
from apps.costs.models import CostEntry
from apps.kpis.models import KPI, Attribution
from apps.kpis.selectors import kpi_latest_outcomes

# A year of lines (month x category), each with its correction form; older months are in the API.
COST_MONTHS_SHOWN = 12


def product_form_choices() -> tuple[QuerySet[Domain], QuerySet[BusinessGoal]]:
    """The domains and goals a product can be registered under."""
    return Domain.objects.order_by("name"), BusinessGoal.objects.select_related("domain").order_by("name")


def linkable_kpis() -> QuerySet[KPI]:
    """Every KPI, by goal: a product may be credited with part of any of them."""
    return KPI.objects.select_related("goal").order_by("goal__name", "name")


@dataclass(frozen=True)
class ProposedBaseline:
    """The baseline the link form proposes: the KPI's latest current outcome, when it has one."""

    value: Decimal
    period_start: date
    unit: str


def proposed_baseline(kpi: KPI | None) -> ProposedBaseline | None:
    """DESIGN.md v2: linking a KPI that already has outcomes proposes the latest one as the baseline."""
    if kpi is None:
        return None
    latest = kpi_latest_outcomes([kpi.pk]).get(kpi.pk)
    if latest is None:
        return None
    return ProposedBaseline(value=latest.value, period_start=latest.period_start, unit=kpi.unit)


def product_kpis_page(*, product: DataProduct) -> dict:
    """The product's attributions with each KPI's latest outcome. Two queries."""
    attributions = list(
        Attribution.objects.filter(data_product=product).select_related("kpi__goal").order_by("kpi__name")
    )
    latest = kpi_latest_outcomes([a.kpi_id for a in attributions])
    return {"attributions": [{"attribution": a, "latest": latest.get(a.kpi_id)} for a in attributions]}


@dataclass
class CostLine:
    """One month and category of a product's cost: the current entry and the revisions it replaced."""

    current: CostEntry
    history: list[CostEntry]


def _revision_order(entry: CostEntry) -> tuple:
    return (getattr(entry, "revision", 1), entry.recorded_at, entry.pk)


def product_costs_page(*, product: DataProduct, since: date) -> list[CostLine]:
    """The product's cost lines from `since`, newest month first, each with its older revisions. One query.

    A line is (month, category, source key): a revision replaces the line's current entry and the older
    entries stay as history (apps.costs keeps them; rows without revision fields are each their own line).
    """
    entries = list(
        CostEntry.objects.filter(data_product=product, period_start__gte=since)
        .select_related("recorded_by")
        .order_by("-period_start", "category", "id")
    )
    has_revisions = hasattr(CostEntry, "is_current")
    lines: dict[tuple, list[CostEntry]] = {}
    for entry in entries:
        key = (
            (entry.period_start, entry.category, getattr(entry, "source_key", ""))
            if has_revisions
            else (entry.period_start, entry.category, entry.pk)
        )
        lines.setdefault(key, []).append(entry)
    result = []
    for revisions in lines.values():
        revisions.sort(key=_revision_order, reverse=True)
        current = next((e for e in revisions if getattr(e, "is_current", True)), revisions[0])
        result.append(CostLine(current=current, history=[e for e in revisions if e is not current]))
    return result


def product_debts(*, product: DataProduct) -> dict[str, list[ConsciousDebt]]:
    """The product's register of conscious shortcuts: open ones by revisit date, then resolved ones. One query."""
    debts = list(ConsciousDebt.objects.filter(data_product=product).select_related("created_by"))
    return {
        "open": [d for d in debts if d.resolved_at is None],
        "resolved": sorted(
            (d for d in debts if d.resolved_at is not None), key=lambda d: d.resolved_at or d.created_at, reverse=True
        ),
    }
