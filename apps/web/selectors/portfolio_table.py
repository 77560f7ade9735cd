"""The dashboard's table of evaluated products and its value/cost map, both sized for any portfolio.

The table is one page of the portfolio's latest evaluations, sorted, filtered and counted by the
database (two queries: the count and the page). The map is every product, but as columns of plain
numbers and short names served as JSON apart from the page, so the dashboard's HTML stays the same
size whether the portfolio holds 30 products or 10,000.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import F, QuerySet

from apps.valuation.models import Evaluation, Recommendation
from apps.valuation.portfolio import latest_evaluations as portfolio_latest_evaluations
from apps.valuation.portfolio import latest_evaluations_counted, latest_evaluations_recommending
from apps.web.selectors.common import RECOMMENDATION_COLOURS, RECOMMENDATION_ORDER

# Column key in the URL -> the evaluation field it sorts by.
SORT_FIELDS: dict[str, str] = {
    "name": "data_product__name",
    "value": "value",
    "cost": "cost",
    "net": "net",
    "ratio": "ratio",
    "recommendation": "recommendation",
}
PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 25
DEFAULT_SORT = "name"


@dataclass(frozen=True)
class ProductTableQuery:
    """What the reader asked of the table: every field comes from the query string, already checked."""

    sort: str = DEFAULT_SORT
    descending: bool = False
    domain: str = ""
    recommendation: str = ""
    search: str = ""
    per_page: int = DEFAULT_PAGE_SIZE
    page: int = 1

    def params(self, **changes: object) -> dict[str, str]:
        """The query-string parameters of this state (defaults left out), with `changes` applied."""
        state = replace(self, **changes)  # type: ignore[arg-type]
        params = {
            "sort": ("-" if state.descending else "") + state.sort,
            "domain": state.domain,
            "recommendation": state.recommendation,
            "q": state.search,
            "per_page": str(state.per_page),
            "page": str(state.page),
        }
        defaults = {"sort": DEFAULT_SORT, "per_page": str(DEFAULT_PAGE_SIZE), "page": "1"}
        return {key: value for key, value in params.items() if value and defaults.get(key) != value}


@dataclass(frozen=True)
class TableRow:
    """One product's latest evaluation, as a row of the table."""

    name: str
    slug: str
    domain: str
    recommendation: str
    value: Decimal
    cost: Decimal
    net: Decimal
    ratio: Decimal | None


def _evaluations(*, query: ProductTableQuery, evaluations: QuerySet[Evaluation]) -> QuerySet[Evaluation]:
    if query.domain:
        evaluations = evaluations.filter(data_product__domain__slug=query.domain)
    if query.search:
        evaluations = evaluations.filter(data_product__name__icontains=query.search)
    field = F(SORT_FIELDS[query.sort])
    # Products without a ratio (no cost) go last either way: they have nothing to compare.
    order = field.desc(nulls_last=True) if query.descending else field.asc(nulls_last=True)
    return evaluations.order_by(order, "data_product__name", "data_product_id")


def product_table(*, query: ProductTableQuery, as_of: date, as_of_param: str = "") -> dict:
    """One page of the portfolio's products with their latest figures, and the links that move through it.

    Two queries (the count and the page) whatever the number of products; unfiltered, the count is
    the portfolio's size (`latest_evaluations_counted`). A page past the end
    shows the last page, as the inbox does.
    """
    latest, portfolio_size = latest_evaluations_counted(as_of=as_of)
    if query.recommendation:
        latest = latest_evaluations_recommending(as_of=as_of, recommendation=query.recommendation)
    rows = _evaluations(query=query, evaluations=latest).values_list(
        "data_product__name",
        "data_product__slug",
        "data_product__domain__name",
        "recommendation",
        "value",
        "cost",
        "net",
        "ratio",
    )
    paginator = Paginator(rows, query.per_page)
    if portfolio_size is not None and not (query.domain or query.recommendation or query.search):
        # The whole portfolio: its size is known without counting 10,000 joined rows (48 ms).
        paginator.count = portfolio_size
    page: Page = paginator.get_page(query.page)
    query = replace(query, page=page.number)
    base = {"as_of": as_of_param} if as_of_param else {}

    def link(**changes: object) -> str:
        return "?" + urlencode({**base, **query.params(**changes)})

    columns = []
    for key, label, numeric in (
        ("name", "Product", False),
        ("recommendation", "Recommendation", False),
        ("value", "Value", True),
        ("cost", "Cost", True),
        ("net", "Net", True),
        ("ratio", "Value / cost", True),
    ):
        active = query.sort == key
        # A first click on a figure sorts the largest first; on a name or recommendation A to Z.
        descending = (not query.descending) if active else numeric
        columns.append(
            {
                "key": key,
                "label": label,
                "numeric": numeric,
                "active": active,
                "aria_sort": ("descending" if query.descending else "ascending") if active else "none",
                "link": link(sort=key, descending=descending, page=1),
            }
        )
    return {
        "table_query": query,
        "table_page": page,
        "table_rows": [TableRow(*row) for row in page.object_list],
        "table_columns": columns,
        "table_previous": link(page=page.previous_page_number()) if page.has_previous() else "",
        "table_next": link(page=page.next_page_number()) if page.has_next() else "",
        "table_hidden": {**base, **{k: v for k, v in query.params(page=1).items() if k in ("sort",)}},
        "table_page_sizes": PAGE_SIZES,
    }


def compact_amount(amount: Decimal) -> int | float:
    """An amount for a chart: whole units from a hundred up (a dot or a bar needs no cents), fewer digits to send."""
    rounded = amount.quantize(Decimal("1") if abs(amount) >= 100 else Decimal("0.01"))
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)


def portfolio_map(*, as_of: date) -> dict:
    """Every portfolio product's latest value and cost as columns, one trace per recommendation. One query.

    Short names and slugs go once per product and the domain names once per map; the page builds
    the hover text and each product's URL from them, so nothing is repeated per point.
    """
    domains: dict[str, int] = {}
    traces: dict[str, dict[str, list]] = {}
    for name, slug, domain, recommendation, value, cost, ratio in (
        portfolio_latest_evaluations(as_of=as_of)
        .order_by("data_product__name", "data_product_id")
        .values_list(
            "data_product__name",
            "data_product__slug",
            "data_product__domain__name",
            "recommendation",
            "value",
            "cost",
            "ratio",
        )
    ):
        trace = traces.setdefault(recommendation, {"x": [], "y": [], "ratio": [], "name": [], "slug": [], "domain": []})
        trace["x"].append(compact_amount(cost))
        trace["y"].append(compact_amount(value))
        trace["ratio"].append(None if ratio is None else float(ratio))
        trace["name"].append(name)
        trace["slug"].append(slug)
        trace["domain"].append(domains.setdefault(domain, len(domains)))
    return {
        "currency": settings.MESHVALUE_CURRENCY,
        "domains": list(domains),
        "traces": [
            {
                "key": recommendation,
                "label": Recommendation(recommendation).label,
                "colour": RECOMMENDATION_COLOURS[recommendation],
                **traces[recommendation],
            }
            for recommendation in RECOMMENDATION_ORDER
            if recommendation in traces
        ],
    }
