"""KPIs (with their attributions nested) and measurements as JSON."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from apps.catalog.models import DataProduct
from apps.core.api.serializers import ApiModelSerializer, ApiSerializer
from apps.kpis.models import KPI, Attribution, Measurement


class AttributionSerializer(ApiModelSerializer):
    data_product = serializers.PrimaryKeyRelatedField(queryset=DataProduct.objects.all())
    weight = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        max_value=Decimal("1"),
        help_text="The share of the KPI's improvement credited to the product: greater than 0, at most 1.",
    )

    class Meta:
        model = Attribution
        fields = ["data_product", "weight"]

    def validate_weight(self, weight: Decimal) -> Decimal:
        if weight <= 0:
            raise serializers.ValidationError("A weight must be greater than 0 (and at most 1).")
        return weight


class KPISerializer(ApiModelSerializer):
    attributions = AttributionSerializer(
        many=True,
        required=False,
        help_text="The products credited with this KPI, and their weights (summing to at most 1). "
        "When given on update, the list replaces the stored one.",
    )

    class Meta:
        model = KPI
        fields = [
            "id",
            "goal",
            "name",
            "description",
            "unit",
            "direction",
            "cadence",
            "baseline",
            "target",
            "target_date",
            "value_per_unit",
            "attributions",
            "source",
            "source_query",
        ]
        extra_kwargs = {
            "source": {
                "help_text": "The data source outcomes are pulled from (`data-sources`), or null. Set by the owner "
                "of a product the KPI is attributed to, a governance lead or an admin."
            },
            "source_query": {
                "help_text": "SQL run read-only on the source, returning rows (period_start, value); "
                "required with a source, empty without one."
            },
        }


class MeasurementSerializer(ApiModelSerializer):
    class Meta:
        model = Measurement
        fields = [
            "id",
            "kpi",
            "period_start",
            "value",
            "note",
            "source",
            "revision",
            "is_current",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = ["source", "revision", "is_current", "recorded_by", "recorded_at"]
        # DRF would build a "must make a unique set" validator from the one-current-revision
        # constraint and refuse every correction; `measurement_record` appends a revision instead.
        validators: list = []
        extra_kwargs = {
            "period_start": {
                "help_text": "The start of the KPI's period: a Monday, the 1st of a month or of a quarter."
            }
        }


class MeasurementRowSerializer(ApiSerializer):
    """One row of `measurements/bulk/` (documentation: rows are checked by apps.kpis.ingest)."""

    kpi = serializers.IntegerField()
    period_start = serializers.DateField()
    value = serializers.DecimalField(max_digits=20, decimal_places=4)
    note = serializers.CharField(required=False, allow_blank=True)
