from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from apps.catalog.models import DataProduct
from apps.core.api.serializers import ApiModelSerializer, ApiSerializer, PlainDecimalField
from apps.costs.models import AllocationRule, CostCategory, CostEntry, CostImport, ExchangeRate


class CostEntrySerializer(ApiModelSerializer):
    # Plain ASCII digits only: Decimal() would also read "1_000" and full-width digits.
    amount = PlainDecimalField(
        max_digits=14,
        decimal_places=2,
        help_text="Money spent, 0 or more (0 or less for the category credit), at most 2 decimal places.",
    )

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
            "source",
            "source_key",
            "revision",
            "is_current",
            "cost_import",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = [
            "source",
            "source_key",
            "revision",
            "is_current",
            "cost_import",
            "recorded_by",
            "recorded_at",
        ]
        # The "one current entry per key" constraint is the service's business: a second figure is a
        # revision, not a 400 (DRF would otherwise build a unique-together validator from it).
        validators: list = []
        extra_kwargs = {
            "period_start": {"help_text": "The 1st of the month the money was spent in."},
            "currency": {
                "required": False,
                "allow_blank": True,
                "help_text": f"The configured currency ({settings.MESHVALUE_CURRENCY}, the default); no other.",
            },
            "external_id": {
                "help_text": (
                    "Finance's id of the line: the same figure again changes nothing, another figure is a revision."
                ),
                # Uniqueness is the service's business: the same line again is accepted unchanged.
                "validators": [],
            },
        }


class CostRowSerializer(ApiSerializer):
    """One row of `costs/bulk/` (documentation: rows are checked by apps.costs.ingest)."""

    data_product = serializers.IntegerField()
    period_start = serializers.DateField()
    amount = PlainDecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField(required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=CostCategory.choices, required=False)
    note = serializers.CharField(required=False, allow_blank=True)
    external_id = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class CostImportSerializer(ApiModelSerializer):
    class Meta:
        model = CostImport
        fields = [
            "id",
            "file_name",
            "checksum",
            "format",
            "billing_currency",
            "rows_read",
            "total_effective",
            "total_billed",
            "allocated",
            "unallocated",
            "zero_effective_lines",
            "status",
            "progress",
            "errors",
            "warnings",
            "result",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class CostImportUploadSerializer(serializers.Serializer):
    """The request of `POST cost-imports/`: a multipart form with the billing export in `file`."""

    file = serializers.FileField(help_text="A FOCUS 1.0-1.3 export: .csv, .csv.gz or .parquet.")
    format = serializers.ChoiceField(choices=["focus"], default="focus", required=False)


class AllocationTargetSerializer(serializers.Serializer):
    data_product = serializers.PrimaryKeyRelatedField(queryset=DataProduct.objects.all())
    weight = serializers.DecimalField(
        max_digits=7,
        decimal_places=6,
        required=False,
        allow_null=True,
        help_text="For a fixed split: weights sum to 1.",
    )


class AllocationRuleSerializer(ApiModelSerializer):
    targets = AllocationTargetSerializer(many=True, help_text="The products the rule allocates to.")

    class Meta:
        model = AllocationRule
        fields = [
            "id",
            "name",
            "position",
            "tag_key",
            "tag_value",
            "sub_account_id",
            "resource_id_prefix",
            "service_name",
            "split",
            "as_licenses",
            "targets",
        ]
        extra_kwargs = {"position": {"required": False}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if isinstance(instance, AllocationRule):
            data["targets"] = [
                {"data_product": t.data_product_id, "weight": None if t.weight is None else str(t.weight)}
                for t in instance.targets.all()
            ]
        return data


class AllocationReorderSerializer(serializers.Serializer):
    rules = serializers.ListField(child=serializers.IntegerField(), help_text="Every rule id, in the new order.")


class AllocationPreviewSerializer(serializers.Serializer):
    rules = AllocationRuleSerializer(
        many=True, required=False, help_text="The rules to try (default: the stored ones)."
    )
    cost_import = serializers.PrimaryKeyRelatedField(
        queryset=CostImport.objects.all(), required=False, help_text="Default: the last succeeded import."
    )


class ExchangeRateSerializer(ApiModelSerializer):
    class Meta:
        model = ExchangeRate
        fields = ["id", "currency", "month", "rate"]
        extra_kwargs = {
            "month": {"help_text": "The 1st of the month the rate applies to."},
            "rate": {"help_text": "Units of the configured currency one unit of `currency` is worth."},
        }
        validators: list = []  # (currency, month) uniqueness: the service and the database answer it
