"""Value bets: executives (any product) and owners (their own) place and edit them; governance leads confirm."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.auth import request_user
from apps.bets import selectors, services
from apps.bets.api.filters import ValueBetFilter
from apps.bets.api.serializers import BetSettleSerializer, ValueBetSerializer
from apps.bets.models import ValueBet
from apps.core.api import access
from apps.core.api.viewsets import ModelApiViewSet


class ValueBetViewSet(ModelApiViewSet):
    """Bets that a data product moves a goal. Open bets can be edited or withdrawn; settled ones are history."""

    access = access.BETS
    create_target = "data_product"
    serializer_class = ValueBetSerializer
    filterset_class = ValueBetFilter
    ordering_fields = ["id", "opens_on", "review_on", "expected_value", "status"]

    def get_queryset(self):
        return selectors.bet_list()

    def create_object(self, data: dict[str, Any]) -> Model:
        return services.bet_create(created_by=request_user(self.request), **data)

    def update_object(self, instance: ValueBet, data: dict[str, Any]) -> Model:
        return services.bet_update(bet=instance, **data)

    def delete_object(self, instance: ValueBet) -> None:
        services.bet_delete(bet=instance)

    @extend_schema(request=BetSettleSerializer, responses={200: ValueBetSerializer})
    @action(detail=True, methods=["post"])
    def settle(self, request: Request, pk: str | None = None) -> Response:
        """Confirm a due bet's outcome (governance leads): the measured won/lost, or void."""
        bet = self.get_object()
        serializer = BetSettleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        bet = services.bet_settle_confirm(
            bet=bet, user=request_user(request), outcome=serializer.validated_data.get("outcome")
        )
        return Response(ValueBetSerializer(bet).data)
