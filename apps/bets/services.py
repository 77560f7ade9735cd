"""Settling value bets: measure what a bet realised, then let a governance lead confirm the outcome.

Settlement is two steps (see README, "Valuation"):

1. `bets_measure_due` (part of the daily evaluation pass) computes, for every open bet whose
   review date has come, the realised value and cost over the bet's span with the valuation rules
   (the window `opens_on <= period_start < review_on`) and stores them on the bet, which stays `open`.
   The evaluation raises a `bet_due` alert that shows the proposed outcome: `won` when the
   realised value reaches the expected value, otherwise `lost`.
2. A governance lead confirms by deciding that alert (`bets_confirm_for_alert`, called from
   the alert decision) or the bet itself (`bet_settle_confirm`): the bet becomes `won` or
   `lost` (or `void`) with its settlement date, and the next evaluation finds no due bet.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from apps.accounts.models import User
from apps.bets.models import BetStatus, ValueBet
from apps.catalog.models import BusinessGoal, DataProduct
from apps.core.audit import audit_record_updated
from apps.core.services import fields_apply, instance_save
from apps.costs.models import CostEntry
from apps.governance.models import Alert, AlertKind
from apps.kpis.models import Attribution, Measurement
from meshvalue.valuation import ZERO, Direction, money, settle_bet, summed_value


def _realised_figures(bet_ids: list[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """Realised (value, cost) of each bet over its own span, in two grouped queries.

    The valuation rules of DESIGN.md v2 over the window `opens_on <= period_start < review_on`:
    a measurement counts for the bet's product only from the attribution's `credited_from`
    (the later of the product's launch and the attribution's start), measured from the
    attribution's baseline (the KPI's when it has none).
    """
    if not bet_ids:
        return {}
    value: dict[int, Decimal] = defaultdict(lambda: ZERO)
    # One row per (bet, attribution of its product); the measurements of the span since the
    # attribution's credited_from are counted and summed by a correlated range scan each (on
    # PostgreSQL an index-only scan of the current-measurement index), not read row by row.
    span = Measurement.objects.filter(
        kpi_id=OuterRef("kpi_id"),
        is_current=True,
        period_start__gte=OuterRef("counts_from"),
        period_start__lt=OuterRef("bet_review_on"),
    ).order_by()
    rows = (
        Attribution.objects.filter(data_product__bets__id__in=bet_ids)
        .annotate(
            bet_id=F("data_product__bets__id"),
            bet_review_on=F("data_product__bets__review_on"),
            # The later of the bet's opening, the product's launch and the attribution's start.
            counts_from=Greatest(
                "data_product__bets__opens_on",
                Coalesce("data_product__launched_on", "data_product__bets__opens_on"),
                Coalesce("starts_on", "data_product__bets__opens_on"),
            ),
        )
        .annotate(
            count=Subquery(span.values("kpi_id").annotate(n=Count("*")).values("n")[:1]),
            value_sum=Subquery(span.values("kpi_id").annotate(total=Sum("value")).values("total")[:1]),
        )
        .values_list(
            "bet_id",
            "weight",
            "baseline",
            "kpi__direction",
            "kpi__baseline",
            "kpi__value_per_unit",
            "count",
            "value_sum",
        )
    )
    for bet_id, weight, baseline, direction, kpi_baseline, value_per_unit, count, value_sum in rows:
        if count:
            value[bet_id] += weight * summed_value(
                Direction(direction), kpi_baseline if baseline is None else baseline, value_per_unit, count, value_sum
            )
    cost = dict(
        CostEntry.objects.filter(
            is_current=True,
            data_product__bets__id__in=bet_ids,
            period_start__gte=F("data_product__bets__opens_on"),
            period_start__lt=F("data_product__bets__review_on"),
        )
        .order_by()
        .values("data_product__bets__id")
        .annotate(total=Sum("amount"))
        .values_list("data_product__bets__id", "total")
    )
    return {bet_id: (money(value[bet_id]), money(cost.get(bet_id) or ZERO)) for bet_id in bet_ids}


@transaction.atomic
def bets_measure_due(*, as_of: date, product_range: tuple[int, int] | None = None) -> list[int]:
    """Measure every open bet due for review by `as_of` (of the products in `product_range`); their ids.

    Part of the daily evaluation pass, before the rules run, so a `bet_due` alert shows the
    proposed outcome. Figures are recomputed on every pass until a governance lead confirms, so a
    late correction of a measurement still counts. Idempotent; three queries and one bulk update.
    """
    due = ValueBet.objects.filter(status=BetStatus.OPEN, review_on__lte=as_of)
    if product_range is not None:
        due = due.filter(data_product_id__gte=product_range[0], data_product_id__lt=product_range[1])
    bets = list(due.select_for_update().only("id", "realised_value", "realised_cost"))
    figures = _realised_figures([bet.pk for bet in bets])
    changed = []
    for bet in bets:
        realised_value, realised_cost = figures[bet.pk]
        if (bet.realised_value, bet.realised_cost) != (realised_value, realised_cost):
            bet.realised_value, bet.realised_cost = realised_value, realised_cost
            changed.append(bet)
    if changed:
        ValueBet.objects.bulk_update(changed, ["realised_value", "realised_cost"])
        # bulk_update sends no signal: the audit trail records the new figures here (two queries,
        # whole rows: the bets above are read with only the columns the measure needs).
        audit_record_updated(ValueBet, pks=[bet.pk for bet in changed])
    return [bet.pk for bet in bets]


@transaction.atomic
def bet_settle_confirm(*, bet: ValueBet, user: User, outcome: str | None = None) -> ValueBet:
    """Confirm the outcome of a due bet: `won`/`lost` as measured (the default) or `void`.

    A governance lead may only confirm the measured outcome or void the bet: the figures decide
    whether a bet was won, people decide whether it still counts.
    """
    bet = ValueBet.objects.select_for_update().get(pk=bet.pk)
    if bet.status != BetStatus.OPEN:
        raise ValidationError({"status": f"This bet is already settled ({bet.status})."})
    today = timezone.localdate()
    if bet.review_on > today:
        raise ValidationError({"review_on": f"This bet is not due for review before {bet.review_on.isoformat()}."})
    realised_value, realised_cost = _realised_figures([bet.pk])[bet.pk]
    measured = settle_bet(realised_value=realised_value, expected_value=bet.expected_value)
    if outcome not in (None, measured, BetStatus.VOID):
        raise ValidationError(
            {"outcome": f"The measured outcome is {measured}: confirm it or void the bet, not {outcome}."}
        )
    bet.realised_value, bet.realised_cost = realised_value, realised_cost
    bet.status = outcome or measured
    bet.settled_on = today
    bet.save(update_fields=["realised_value", "realised_cost", "status", "settled_on"])
    return bet


@transaction.atomic
def bets_confirm_for_alert(*, alert: Alert, user: User) -> list[ValueBet]:
    """Confirm every due open bet of a `bet_due` alert's product (call when the alert is decided)."""
    if alert.kind != AlertKind.BET_DUE:
        return []
    due = ValueBet.objects.filter(
        data_product_id=alert.data_product_id, status=BetStatus.OPEN, review_on__lte=timezone.localdate()
    ).order_by("review_on", "id")
    return [bet_settle_confirm(bet=bet, user=user) for bet in due]


# --- creating and editing bets (the API; appended by the API feature) --------------------------

_BET_FIELDS = frozenset(
    {"hypothesis", "data_product", "goal", "expected_value", "expected_cost", "opens_on", "review_on"}
)


def _bet_save(bet: ValueBet) -> None:
    # The database checks these too; said here per field rather than as a violated constraint.
    if bet.review_on is not None and bet.opens_on is not None and bet.review_on < bet.opens_on:
        raise ValidationError({"review_on": "A bet cannot be reviewed before it opens."})
    if bet.expected_cost is not None and bet.expected_cost < 0:
        raise ValidationError({"expected_cost": "An expected cost cannot be negative."})
    instance_save(bet)


@transaction.atomic
def bet_create(
    *,
    hypothesis: str,
    data_product: DataProduct,
    goal: BusinessGoal,
    expected_value: Decimal,
    expected_cost: Decimal,
    opens_on: date,
    review_on: date,
    created_by: User | None = None,
) -> ValueBet:
    """Place an open bet that `data_product` moves `goal`; reviewed on `review_on` (not before `opens_on`)."""
    bet = ValueBet(
        hypothesis=hypothesis,
        data_product=data_product,
        goal=goal,
        expected_value=expected_value,
        expected_cost=expected_cost,
        opens_on=opens_on,
        review_on=review_on,
        created_by=created_by,
    )
    _bet_save(bet)
    return bet


@transaction.atomic
def bet_update(*, bet: ValueBet, **fields: object) -> ValueBet:
    """Change an open bet's terms; a settled bet is history and stays as it was."""
    bet = ValueBet.objects.select_for_update().get(pk=bet.pk)
    fields_apply(bet, fields, _BET_FIELDS)  # nothing is saved if the bet turns out to be settled
    if bet.status != BetStatus.OPEN:
        raise ValidationError({"status": f"This bet is settled ({bet.status}); its terms cannot change."})
    _bet_save(bet)
    return bet


@transaction.atomic
def bet_delete(*, bet: ValueBet) -> None:
    """Withdraw an open bet placed by mistake; a settled bet is history (void it instead)."""
    bet = ValueBet.objects.select_for_update().get(pk=bet.pk)
    if bet.status != BetStatus.OPEN:
        raise ValidationError({"status": f"This bet is settled ({bet.status}); it cannot be deleted."})
    bet.delete()
