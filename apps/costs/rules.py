"""Writes of allocation rules and exchange rates (governance leads and admins, through the API and the browser)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from apps.catalog.models import DataProduct
from apps.costs import allocation as alloc
from apps.costs.models import AllocationRule, AllocationTarget, ExchangeRate
from meshvalue.periods import Cadence, alignment_error

RULE_FIELDS = (
    "name",
    "position",
    "tag_key",
    "tag_value",
    "sub_account_id",
    "resource_id_prefix",
    "service_name",
    "split",
    "as_licenses",
)
Targets = Sequence[tuple[DataProduct, Decimal | None]]


def rule_value(*, fields: dict[str, Any], targets: Targets, rule_id: int | None = None) -> alloc.Rule:
    """An unsaved rule as the allocation's plain value (for checks and previews)."""
    return alloc.Rule(
        id=rule_id,
        position=fields.get("position") or 0,
        name=fields.get("name", ""),
        tag_key=(fields.get("tag_key") or "").strip(),
        tag_value=fields.get("tag_value") or "",
        sub_account_id=(fields.get("sub_account_id") or "").strip(),
        resource_id_prefix=fields.get("resource_id_prefix") or "",
        service_name=(fields.get("service_name") or "").strip(),
        split=fields.get("split") or alloc.SINGLE,
        as_licenses=bool(fields.get("as_licenses")),
        targets=tuple((product.pk, weight) for product, weight in targets),
    )


def _check(fields: dict[str, Any], targets: Targets) -> None:
    errors = alloc.rule_errors(rule_value(fields=fields, targets=targets))
    if not (fields.get("name") or "").strip():
        errors["name"] = "Give the rule a name."
    if errors:
        raise ValidationError(errors)


def _set_targets(rule: AllocationRule, targets: Targets) -> None:
    rule.targets.all().delete()
    AllocationTarget.objects.bulk_create(
        [
            AllocationTarget(rule=rule, data_product=product, weight=weight if rule.split == alloc.FIXED else None)
            for product, weight in targets
        ]
    )


@transaction.atomic
def allocation_rule_create(*, targets: Targets, **fields: Any) -> AllocationRule:
    """Add a rule (last in order unless `position` is given). Raises ValidationError per field."""
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown field."))
    if not fields.get("position"):
        fields["position"] = (AllocationRule.objects.aggregate(last=Max("position"))["last"] or 0) + 1
    _check(fields, targets)
    rule = AllocationRule(**fields)
    rule.tag_key = rule.tag_key.strip()
    rule.full_clean()
    rule.save()
    _set_targets(rule, targets)
    return rule


@transaction.atomic
def allocation_rule_update(*, rule: AllocationRule, targets: Targets | None = None, **fields: Any) -> AllocationRule:
    """Change a rule; `targets`, when given, replaces its products. Raises ValidationError per field."""
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown field."))
    merged = {name: fields.get(name, getattr(rule, name)) for name in RULE_FIELDS}
    current = [(t.data_product, t.weight) for t in rule.targets.select_related("data_product")]
    _check(merged, current if targets is None else targets)
    for name, value in merged.items():
        setattr(rule, name, value)
    rule.tag_key = rule.tag_key.strip()
    rule.full_clean()
    rule.save()
    if targets is not None or "split" in fields:
        _set_targets(rule, current if targets is None else targets)
    return rule


@transaction.atomic
def allocation_rule_delete(*, rule: AllocationRule) -> None:
    rule.delete()


@transaction.atomic
def allocation_rules_reorder(*, rule_ids: Sequence[int]) -> list[AllocationRule]:
    """Put the rules in the order given (every rule, each once): positions become 1, 2, 3, ..."""
    rules = AllocationRule.objects.select_for_update().in_bulk()
    if sorted(rule_ids) != sorted(rules) or len(set(rule_ids)) != len(rule_ids):
        raise ValidationError({"rules": f"List every rule id once: {sorted(rules)}."})
    for position, rule_id in enumerate(rule_ids, start=1):
        rules[rule_id].position = position
    AllocationRule.objects.bulk_update(list(rules.values()), ["position"])
    return [rules[rule_id] for rule_id in rule_ids]


def _rate_errors(rate: ExchangeRate) -> dict[str, str]:
    errors: dict[str, str] = {}
    message = alignment_error(Cadence.MONTHLY, rate.month)
    if message:
        errors["month"] = message
    if not (len(rate.currency) == 3 and rate.currency.isalpha()):
        errors["currency"] = "Enter a three-letter currency code (ISO 4217)."
    if rate.rate is None or not rate.rate.is_finite() or rate.rate <= 0:
        errors["rate"] = "Enter a rate above 0."
    return errors


@transaction.atomic
def exchange_rate_save(*, exchange_rate: ExchangeRate | None = None, **fields: Any) -> ExchangeRate:
    """Create or change a month's exchange rate. Raises ValidationError per field."""
    rate = exchange_rate or ExchangeRate()
    for name in ("currency", "month", "rate"):
        if name in fields:
            setattr(rate, name, fields[name])
    rate.currency = (rate.currency or "").upper()
    errors = _rate_errors(rate)
    if errors:
        raise ValidationError(errors)
    rate.full_clean()
    rate.save()
    return rate
