"""Value bet reads."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.bets.models import ValueBet


def bet_list() -> QuerySet[ValueBet]:
    """Every value bet, by review date."""
    return ValueBet.objects.order_by("review_on", "id")
