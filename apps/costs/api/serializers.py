from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from apps.core.api.serializers import ApiModelSerializer, ApiSerializer
from apps.costs.models import CostEntry


class CostEntrySerializer(ApiModelSerializer):
    class Meta:
        model = CostEntry
        fields = [
            "id",
            "data_product",
            "period_start",
            "amount",
            "currency",
            "category",
            "note",
            "external_id",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = ["recorded_by", "recorded_at"]
        extra_kwargs = {
            "period_start": {"help_text": "The 1st of the month the money was spent in."},
            "amount": {
                "help_text": "Money spent, 0 or more (0 or less for the category credit), at most 2 decimal places."
            },
            "currency": {
                "required": False,
                "allow_blank": True,
                "help_text": f"The configured currency ({settings.MESHVALUE_CURRENCY}, the default); no other.",
            },
            "external_id": {
                "help_text": "Finance's id of the line: sending the same line again changes nothing.",
                # Uniqueness is the service's business: the same line again is accepted unchanged.
                "validators": [],
            },
        }


class CostRowSerializer(ApiSerializer):
    """One row of `costs/bulk/` (documentation: rows are checked by apps.costs.ingest)."""

    data_product = serializers.IntegerField()
    period_start = serializers.DateField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField(required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=CostEntry._meta.get_field("category").choices, required=False)
    note = serializers.CharField(required=False, allow_blank=True)
    external_id = serializers.CharField(required=False, allow_blank=True, allow_null=True)
