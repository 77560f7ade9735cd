"""The decision-loop and readiness pages, the dashboard's decision-loop section and a product's checks.

Each function runs a fixed number of queries whatever the number of products, bets and
decisions: the valuation app's set-based selectors, plus one query for the rows a page lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from apps.catalog.models import DataProduct, Domain, Lifecycle
from apps.core.sql import IdArray
from apps.valuation.decision_loop import DecisionLoop, decision_loop, settled_bets
from apps.valuation.readiness import product_checks, readiness_report, readiness_trend
from meshvalue.decision_loop import default_period
from meshvalue.readiness import CHECK_DEFINITIONS, CHECK_LABELS, CHECK_REMEDIES, CHECKS, Check, DomainReadiness

T = TypeVar("T")

# A table of these pages lists at most this many rows; its heading counts them all (the API:
# `portfolio/readiness/` answers every row, `portfolio/decision-loop/?alerts=all` too). Without a cap, the
# decision-loop page of a 10,000-product portfolio was 2.2 MB of HTML and the readiness page 3.1 MB.
ROWS_SHOWN = 50
# The products named under each readiness check (the first registered, listed by name); the rest are counted.
FAILING_SHOWN = 10

# The colours of domains on the charts, in domain order (repeating).
DOMAIN_COLOURS = ("#4f46e5", "#0f9d58", "#e08a00", "#d93f3f", "#8b5cf6", "#0ea5e9", "#64748b", "#db2777")

# What each figure means, shown behind its "?".
DEFINITIONS = {
    "win_rate": "Won / (won + lost) over the bets settled in the period; void bets are left out.",
    "calibration": "Sum of realised value / sum of expected value over the bets settled in the period. "
    "Below 1: teams promised more than they delivered.",
    "cost_accuracy": "Sum of realised cost / sum of expected cost over the settled bets whose realised cost "
    "is known. Above 1: bets cost more than planned.",
    "avoided_cost": "For each product whose retirement sunset fell in the period: its average monthly cost over "
    "the 3 full months before the retire decision, times the full months from its sunset to the end of the "
    "period (at most 12).",
    "median_time_to_decision": "The median time from an alert being raised to the decision taken on it, "
    "over the decisions made in the period.",
    "decided_within_sla": "The share of those decisions made within the SLA of the product's domain "
    "(the policy's decision_sla_days, 14 by default).",
    "alerts_past_sla": "Alerts still unresolved at the end of the period and older than their domain's SLA.",
}


def domain_choices() -> list[tuple[int, str]]:
    return list(Domain.objects.order_by("name", "id").values_list("id", "name"))


def _share_percent(share: Decimal | None) -> Decimal | None:
    return None if share is None else (share * 100).quantize(Decimal("1"))


def decision_loop_summary(*, as_of: date) -> dict:
    """The dashboard's decision-loop section: the twelve months ending `as_of`, in total and per domain."""
    date_from, date_to = default_period(as_of)
    loop = decision_loop(date_from=date_from, date_to=date_to, overdue_limit=0)
    return {"loop": loop, "definitions": DEFINITIONS, "query": f"?date_from={date_from}&date_to={date_to}"}


@dataclass(frozen=True)
class SettledBet:
    bet_id: int
    hypothesis: str
    product: str
    slug: str
    domain_id: int
    status: str
    expected_value: Decimal
    realised_value: Decimal
    settled_on: date


def _settled_bet_rows(*, date_from: date, date_to: date, domain_id: int | None) -> list[SettledBet]:
    rows = (
        settled_bets(date_from=date_from, date_to=date_to, domain_id=domain_id)
        .order_by("settled", "id")
        .values_list(
            "id",
            "hypothesis",
            "data_product__name",
            "data_product__slug",
            "data_product__domain_id",
            "status",
            "expected_value",
            "realised_value",
            "settled",
        )
    )
    return [SettledBet(*row) for row in rows]


def _calibration_chart(loop: DecisionLoop, bets: list[SettledBet]) -> dict:
    """One trace per domain: a dot per settled bet at (expected, realised); the page draws the diagonal."""
    traces = []
    for index, domain in enumerate(loop.domains):
        mine = [bet for bet in bets if bet.domain_id == domain.domain_id]
        if not mine:
            continue
        traces.append(
            {
                "name": domain.name,
                "colour": DOMAIN_COLOURS[index % len(DOMAIN_COLOURS)],
                "x": [float(bet.expected_value) for bet in mine],
                "y": [float(bet.realised_value) for bet in mine],
                "hover": [
                    f"{bet.product} ({bet.status}): expected {bet.expected_value:,.0f}, "
                    f"realised {bet.realised_value:,.0f}"
                    for bet in mine
                ],
                "url": [reverse("product_detail", args=[bet.slug]) for bet in mine],
            }
        )
    return {"traces": traces, "currency": loop.currency}


def _first(rows: Sequence[T]) -> Sequence[T]:
    return rows[:ROWS_SHOWN]


def decision_loop_page(*, date_from: date, date_to: date, domain_id: int | None) -> dict:
    """Every figure with the rows behind it, and the data of the two charts."""
    loop = decision_loop(date_from=date_from, date_to=date_to, domain_id=domain_id, overdue_limit=ROWS_SHOWN)
    bets = _settled_bet_rows(date_from=date_from, date_to=date_to, domain_id=domain_id)
    names = {domain.domain_id: domain.name for domain in loop.domains}
    quarters = loop.time_to_decision_per_quarter
    return {
        "loop": loop,
        "definitions": DEFINITIONS,
        "domain_names": names,
        "settled": [{"bet": bet, "domain": names.get(bet.domain_id, "")} for bet in _first(bets)],
        "settled_total": len(bets),
        "decisions": [{"row": row, "domain": names.get(row.domain_id, "")} for row in _first(loop.decisions)],
        "decisions_total": len(loop.decisions),
        "overdue": [{"row": row, "domain": names.get(row.domain_id, "")} for row in _first(loop.alerts_past_sla)],
        "overdue_total": loop.total.alerts_past_sla,
        "retirements": [{"row": row, "domain": names.get(row.domain_id, "")} for row in _first(loop.retirements)],
        "retirements_total": len(loop.retirements),
        "calibration_chart": _calibration_chart(loop, bets),
        "ttd_chart": {
            "quarters": [label for label, _, _ in quarters],
            "median_days": [float(median) for _, median, _ in quarters],
            "decisions": [count for _, _, count in quarters],
            "sla_days": loop.default_sla_days,
        },
    }


@dataclass(frozen=True)
class CheckRow:
    key: str
    label: str
    definition: str
    remedy: str
    passing: int
    percent: Decimal | None
    failing: list[FailingProduct]  # the first FAILING_SHOWN registered, by name
    failing_count: int

    @property
    def failing_more(self) -> int:
        return self.failing_count - len(self.failing)

    @property
    def failing_links(self) -> SafeString:
        """The failing products as links to their readiness panel, joined once here: a page of 20
        domains has 1,200 of them, and a template tag per link was most of its rendering."""
        return format_html_join(", ", '<a href="{}#readiness">{}</a>', ((p.url, p.name) for p in self.failing))


@dataclass(frozen=True)
class FailingProduct:
    name: str
    slug: str
    url: str


@dataclass(frozen=True)
class DomainReadinessRow:
    domain_id: int
    name: str
    products: int
    ready: int
    ready_percent: Decimal | None
    checks: list[CheckRow]


def _first_failing_ids(ids: Sequence[int]) -> Sequence[int]:
    """The products named under a check: the first registered (the lists are in id order)."""
    return ids[:FAILING_SHOWN]


def _rows(readiness: DomainReadiness, name: str, products: dict[int, FailingProduct]) -> DomainReadinessRow:
    """A domain's row; `products`: the products shown as failing, by id."""

    def first_failing(ids: Sequence[int]) -> list[FailingProduct]:
        shown = [products[pk] for pk in _first_failing_ids(ids) if pk in products]
        return sorted(shown, key=lambda product: product.name)

    return DomainReadinessRow(
        domain_id=readiness.domain_id,
        name=name,
        products=readiness.products,
        ready=readiness.ready,
        ready_percent=_share_percent(readiness.ready_share),
        checks=[
            CheckRow(
                key=check.value,
                label=CHECK_LABELS[check],
                definition=CHECK_DEFINITIONS[check],
                remedy=CHECK_REMEDIES[check],
                passing=readiness.passing[check],
                percent=_share_percent(readiness.share(check)),
                failing=first_failing(readiness.failing.get(check, ())),
                failing_count=len(readiness.failing.get(check, ())),
            )
            for check in CHECKS
        ],
    )


def readiness_page(*, as_of: date, domain_id: int | None) -> dict:
    """Readiness per domain and in total, the products failing each check, and the trend per domain."""
    report = readiness_report(as_of=as_of, domain_id=domain_id)
    names = dict(Domain.objects.values_list("id", "name"))
    domains = [report.total, *report.domains.values()]
    shown_ids = {pk for readiness in domains for ids in readiness.failing.values() for pk in _first_failing_ids(ids)}
    product_url = reverse("product_detail", args=["-"]).removesuffix("-/")  # slugs need no quoting
    products = {
        pk: FailingProduct(name, slug, f"{product_url}{slug}/")
        for pk, name, slug in DataProduct.objects.filter(pk__any_of=IdArray.of(sorted(shown_ids))).values_list(
            "pk", "name", "slug"
        )
    }
    trend = readiness_trend(domain_ids=[domain_id] if domain_id is not None else None)
    ordered = sorted(report.domains.values(), key=lambda readiness: names.get(readiness.domain_id, ""))
    return {
        "report": report,
        "total": _rows(report.total, "All domains", products),
        "domains": [_rows(readiness, names.get(readiness.domain_id, ""), products) for readiness in ordered],
        "trend_chart": {
            "traces": [
                {
                    "name": names.get(pk, str(pk)),
                    "colour": DOMAIN_COLOURS[index % len(DOMAIN_COLOURS)],
                    "x": [row.as_of.isoformat() for row in rows],
                    "y": [round(100 * row.ready / row.products, 1) if row.products else None for row in rows],
                }
                for index, (pk, rows) in enumerate(sorted(trend.items(), key=lambda item: names.get(item[0], "")))
            ]
        },
        "has_trend": any(len(rows) > 1 for rows in trend.values()),
    }


def product_readiness_panel(*, product: DataProduct, as_of: date) -> list[dict]:
    """One product's six checks with what to do to pass each (none for a product that is not active)."""
    if product.lifecycle != Lifecycle.ACTIVE:
        return []
    checks = product_checks(product=product, as_of=as_of)
    return [
        {
            "key": check.value,
            "label": CHECK_LABELS[check],
            "definition": CHECK_DEFINITIONS[check],
            "remedy": CHECK_REMEDIES[check],
            "passed": checks[Check(check)],
        }
        for check in CHECKS
    ]
