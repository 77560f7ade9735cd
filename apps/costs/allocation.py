"""Allocation of a bill's sums by allocation key to data products (plain Python, no database).

Each aggregate line is matched against the rules in position order; the first rule that matches
takes it, and splits it across its products (one product; `even`; `proportional` to each
product's direct cost that month, i.e. what single-product rules gave it in the same bill; or
`fixed` weights summing to 1). A line no rule matches is unallocated, kept per month and shown
by tag values and accounts. Amounts are converted with the month's exchange rate and rounded to
cents only once summed per product x month x category x key: never line by line.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from apps.costs.focus import AggregateLine

ZERO = Decimal(0)
CENTS = Decimal("0.01")
SINGLE, EVEN, PROPORTIONAL, FIXED = "single", "even", "proportional", "fixed"
INFRASTRUCTURE, LICENSES, OTHER, CREDIT = "infrastructure", "licenses", "other", "credit"
TOP_UNALLOCATED = 50


@dataclass(frozen=True)
class Rule:
    """One allocation rule: the conditions given must all hold; targets are (product id, weight)."""

    position: int
    name: str
    targets: tuple[tuple[int, Decimal | None], ...]
    tag_key: str = ""
    tag_value: str = ""
    sub_account_id: str = ""
    resource_id_prefix: str = ""
    service_name: str = ""
    split: str = SINGLE
    as_licenses: bool = False
    id: int | None = None

    def matches(self, line: AggregateLine) -> bool:
        if self.tag_key:
            value = line.tag(self.tag_key.strip().lower())
            if value is None:
                return False
            if self.tag_value and not fnmatch.fnmatchcase(value, self.tag_value):
                return False
        if self.sub_account_id and line.sub_account != self.sub_account_id:
            return False
        if self.resource_id_prefix and not line.resource_id.startswith(self.resource_id_prefix):
            return False
        return not (self.service_name and line.service_name.lower() != self.service_name.strip().lower())

    def source_key(self, line: AggregateLine) -> str:
        """The cost revisions' key: the billing account, and the sub account when the rule matches on it."""
        key = f"focus:{line.billing_account}"
        return f"{key}:{line.sub_account}" if self.sub_account_id else key


def rule_errors(rule: Rule) -> dict[str, str]:
    """The problems with a rule, by field name (the API and the browser form show them)."""
    errors: dict[str, str] = {}
    if not (rule.tag_key.strip() or rule.sub_account_id or rule.resource_id_prefix or rule.service_name):
        errors["tag_key"] = "Give at least one condition: a tag key, a sub account, a resource id prefix or a service."
    if rule.tag_value and not rule.tag_key.strip():
        errors["tag_value"] = "A tag value needs a tag key."
    if not rule.targets:
        errors["targets"] = "Name at least one data product."
    elif rule.split == SINGLE and len(rule.targets) != 1:
        errors["targets"] = "A rule for one product names exactly one product; choose a split for several."
    elif len({product for product, _ in rule.targets}) != len(rule.targets):
        errors["targets"] = "A product appears twice."
    elif rule.split == FIXED:
        weights = [weight for _, weight in rule.targets]
        given = [weight for weight in weights if weight is not None]
        if len(given) < len(weights) or any(weight <= 0 for weight in given):
            errors["targets"] = "A fixed split gives every product a weight above 0."
        elif sum(given, ZERO) != 1:
            errors["targets"] = f"The weights of a fixed split sum to 1, not {sum(given, ZERO)}."
    if rule.split not in (SINGLE, EVEN, PROPORTIONAL, FIXED):
        errors["split"] = "Choose one of: single, even, proportional, fixed."
    return errors


@dataclass
class MonthFigures:
    """Reconciliation of one month of the bill: what was read, allocated and left over."""

    effective: Decimal = ZERO  # in the bill's currency
    billed: Decimal = ZERO
    converted: Decimal = ZERO  # effective, in MESHVALUE_CURRENCY
    allocated: Decimal = ZERO
    unallocated: Decimal = ZERO
    lines: int = 0


@dataclass
class Allocation:
    """The result of applying rules to a bill's sums (amounts in MESHVALUE_CURRENCY)."""

    # (product id, month, category, source key) -> amount rounded to cents
    entries: dict[tuple[int, date, str, str], Decimal] = field(default_factory=dict)
    months: dict[date, MonthFigures] = field(default_factory=dict)
    # (converted effective, billed in the bill's currency) of what no rule matched
    unallocated_by_account: dict[tuple[date, str, str], list[Decimal]] = field(default_factory=dict)
    unallocated_by_tags: dict[tuple[date, str], list[Decimal]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def allocated(self) -> Decimal:
        return sum((m.allocated for m in self.months.values()), ZERO)

    @property
    def unallocated(self) -> Decimal:
        return sum((m.unallocated for m in self.months.values()), ZERO)


def missing_rates(lines: Iterable[AggregateLine], rates: Mapping[tuple[str, date], Decimal], base: str) -> list[str]:
    """One message per (currency, month) of the bill with no exchange rate into `base`."""
    needed = sorted({(line.currency, line.month) for line in lines if line.currency != base})
    return [
        f"No exchange rate from {currency} to {base} for {month:%Y-%m}: add one before importing this file."
        for currency, month in needed
        if (currency, month) not in rates
    ]


def allocate(
    lines: Sequence[AggregateLine],
    rules: Sequence[Rule],
    *,
    rates: Mapping[tuple[str, date], Decimal],
    base_currency: str,
) -> Allocation:
    """Apply `rules` to the bill's sums; `rates` must cover every (currency, month) (see missing_rates)."""
    ordered = sorted(rules, key=lambda rule: (rule.position, rule.id or 0))
    result = Allocation()
    raw: dict[tuple[int, date, str, str], Decimal] = {}
    direct: dict[tuple[int, date], Decimal] = {}
    splits: list[tuple[Rule, AggregateLine, Decimal, str]] = []

    for line in lines:
        rate = Decimal(1) if line.currency == base_currency else rates[(line.currency, line.month)]
        amount = line.effective * rate
        month = result.months.setdefault(line.month, MonthFigures())
        month.effective += line.effective
        month.billed += line.billed
        month.converted += amount
        month.lines += line.lines
        rule = next((rule for rule in ordered if rule.matches(line)), None)
        if rule is None:
            month.unallocated += amount
            account = result.unallocated_by_account.setdefault(
                (line.month, line.billing_account, line.sub_account), [ZERO, ZERO]
            )
            tags = result.unallocated_by_tags.setdefault(
                (line.month, json.dumps(dict(line.tags), sort_keys=True)), [ZERO, ZERO]
            )
            for total in (account, tags):
                total[0] += amount
                total[1] += line.billed
            continue
        category = LICENSES if rule.as_licenses and line.category == INFRASTRUCTURE else line.category
        if rule.split == SINGLE:
            product = rule.targets[0][0]
            key = (product, line.month, category, rule.source_key(line))
            raw[key] = raw.get(key, ZERO) + amount
            direct[(product, line.month)] = direct.get((product, line.month), ZERO) + amount
        else:
            splits.append((rule, line, amount, category))

    for rule, line, amount, category in splits:
        for product, share in _shares(rule, line.month, direct, result.warnings):
            key = (product, line.month, category, rule.source_key(line))
            raw[key] = raw.get(key, ZERO) + amount * share

    _fold_signs(raw, result.warnings)
    for key, amount in raw.items():
        rounded = amount.quantize(CENTS, rounding=ROUND_HALF_EVEN)
        result.entries[key] = rounded
        result.months[key[1]].allocated += rounded
    for figures in result.months.values():
        figures.unallocated = figures.unallocated.quantize(CENTS, rounding=ROUND_HALF_EVEN)
    return result


def _shares(rule: Rule, month: date, direct: Mapping[tuple[int, date], Decimal], warnings: list[str]):
    products = [product for product, _ in rule.targets]
    if rule.split == FIXED:
        return [(product, weight or ZERO) for product, weight in rule.targets]
    if rule.split == PROPORTIONAL:
        bases = [max(direct.get((product, month), ZERO), ZERO) for product in products]
        total = sum(bases, ZERO)
        if total > 0:
            return [(product, base / total) for product, base in zip(products, bases, strict=True)]
        message = (
            f"Rule {rule.name!r}: none of its products has a direct cost in {month:%Y-%m}, so it was split evenly."
        )
        if message not in warnings:
            warnings.append(message)
    share = Decimal(1) / len(products)
    return [(product, share) for product in products]


def _fold_signs(raw: dict[tuple[int, date, str, str], Decimal], warnings: list[str]) -> None:
    """Keep the sign rule of cost entries: a negative total is a credit, a positive credit total is other."""
    for key in [key for key, amount in raw.items() if key[2] != CREDIT and amount < 0]:
        product, month, category, source_key = key
        credit = (product, month, CREDIT, source_key)
        raw[credit] = raw.get(credit, ZERO) + raw.pop(key)
        warnings.append(f"Product {product}, {month:%Y-%m}: {category} adds up below 0; it is recorded as a credit.")
    for key in [key for key, amount in raw.items() if key[2] == CREDIT and amount > 0]:
        product, month, _, source_key = key
        other = (product, month, OTHER, source_key)
        raw[other] = raw.get(other, ZERO) + raw.pop(key)
        warnings.append(f"Product {product}, {month:%Y-%m}: credits add up above 0; they are recorded as other.")


def summary(allocation: Allocation, *, product_names: Mapping[int, str] | None = None) -> dict:
    """The reconciliation as JSON-ready values (strings for money), for the import's `result`."""
    names = product_names or {}
    per_product: dict[tuple[int, date, str], Decimal] = {}
    for (product, month, category, _), amount in allocation.entries.items():
        per_product[(product, month, category)] = per_product.get((product, month, category), ZERO) + amount
    by_account = sorted(
        allocation.unallocated_by_account.items(), key=lambda item: (-abs(item[1][0]), -abs(item[1][1]))
    )
    by_tags = sorted(allocation.unallocated_by_tags.items(), key=lambda item: (-abs(item[1][0]), -abs(item[1][1])))
    cents = CENTS
    return {
        "months": [
            {
                "month": month.isoformat(),
                "lines": figures.lines,
                "effective": str(figures.effective),
                "billed": str(figures.billed),
                "converted": str(figures.converted.quantize(cents, rounding=ROUND_HALF_EVEN)),
                "allocated": str(figures.allocated),
                "unallocated": str(figures.unallocated),
            }
            for month, figures in sorted(allocation.months.items())
        ],
        "allocated": [
            {
                "data_product": product,
                "name": names.get(product, str(product)),
                "month": month.isoformat(),
                "category": category,
                "amount": str(amount),
            }
            for (product, month, category), amount in sorted(
                per_product.items(), key=lambda item: (item[0][1], names.get(item[0][0], ""), item[0][2])
            )
        ],
        "unallocated_by_account": [
            {
                "month": month.isoformat(),
                "billing_account": account,
                "sub_account": sub_account,
                "amount": str(amount.quantize(cents, rounding=ROUND_HALF_EVEN)),
                "billed": str(billed),
            }
            for (month, account, sub_account), (amount, billed) in by_account[:TOP_UNALLOCATED]
        ],
        "unallocated_by_tags": [
            {
                "month": month.isoformat(),
                "tags": json.loads(tags),
                "amount": str(amount.quantize(cents, rounding=ROUND_HALF_EVEN)),
                "billed": str(billed),
            }
            for (month, tags), (amount, billed) in by_tags[:TOP_UNALLOCATED]
        ],
        "warnings": allocation.warnings,
    }
