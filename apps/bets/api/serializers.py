from __future__ import annotations

from rest_framework import serializers

from apps.bets.models import BetStatus, ValueBet
from apps.core.api.serializers import ApiModelSerializer, ApiSerializer


class ValueBetSerializer(ApiModelSerializer):
    class Meta:
        model = ValueBet
        fields = [
            "id",
            "hypothesis",
            "data_product",
            "goal",
            "expected_value",
            "expected_cost",
            "opens_on",
            "review_on",
            "status",
            "realised_value",
            "realised_cost",
            "settled_on",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["status", "realised_value", "realised_cost", "settled_on", "created_by", "created_at"]


class BetSettleSerializer(ApiSerializer):
    outcome = serializers.ChoiceField(
        choices=[BetStatus.WON, BetStatus.LOST, BetStatus.VOID],
        required=False,
        allow_null=True,
        help_text="Leave out to confirm the measured outcome (won when the realised value reaches the "
        "expected value, else lost); `void` when the bet no longer counts.",
    )
