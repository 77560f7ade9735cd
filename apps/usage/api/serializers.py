from __future__ import annotations

from rest_framework import serializers

from apps.core.api.serializers import ApiModelSerializer, ApiSerializer
from apps.usage.models import UsageRecord


class UsageRecordSerializer(ApiModelSerializer):
    class Meta:
        model = UsageRecord
        fields = ["id", "data_product", "consumer", "day", "count"]
        read_only_fields = fields


class UsageRowSerializer(ApiSerializer):
    """One row of `POST usage/` (documentation: rows are checked by apps.usage.ingest)."""

    data_product = serializers.IntegerField()
    consumer = serializers.CharField(max_length=150, help_text="A user's username, or a team's name.")
    day = serializers.DateField()
    count = serializers.IntegerField(min_value=0)
