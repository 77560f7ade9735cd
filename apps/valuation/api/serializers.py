from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from apps.core.api.serializers import ApiModelSerializer, ApiSerializer, BoundedDateField
from apps.valuation.models import EVALUATION_FIGURES, Evaluation, EvaluationPolicy, EvaluationRun


class EvaluationSerializer(ApiModelSerializer):
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    signals = serializers.ListField(child=serializers.JSONField(), read_only=True)

    class Meta:
        model = Evaluation
        fields = ["id", "data_product", "as_of", "run", *EVALUATION_FIGURES, "created_at"]
        read_only_fields = fields


class EvaluationRunSerializer(ApiModelSerializer):
    class Meta:
        model = EvaluationRun
        fields = [
            "id",
            "as_of",
            "status",
            "trigger",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "products_evaluated",
            "alerts_opened",
            "alerts_resolved",
            "error",
        ]
        read_only_fields = fields


class EvaluationRunRequestSerializer(ApiSerializer):
    as_of = BoundedDateField(required=False, allow_null=True, help_text="The evaluation date; today when left out.")


class EvaluationPolicySerializer(ApiModelSerializer):
    class Meta:
        model = EvaluationPolicy
        fields = [
            "id",
            "domain",
            "is_default",
            "window_days",
            "recent_days",
            "grace_days",
            "retire_below",
            "invest_above",
            "stale_periods",
            "updated_at",
        ]
        read_only_fields = ["is_default", "updated_at"]
        # Bounds keep the evaluation's date arithmetic sane (ten years of window at most).
        extra_kwargs = {
            "domain": {"help_text": "The domain this policy overrides the default for; required on create."},
            "window_days": {"min_value": 1, "max_value": 3660},
            "recent_days": {"min_value": 1, "max_value": 3660},
            "grace_days": {"min_value": 0, "max_value": 3660},
            "stale_periods": {"min_value": 1, "max_value": 120},
            "retire_below": {"min_value": 0},
            "invest_above": {"min_value": 0},
        }

    def validate(self, attrs: dict) -> dict:
        # The database checks it too; said here on the field rather than as a violated constraint.
        retire_below = attrs.get("retire_below", getattr(self.instance, "retire_below", Decimal("1.0")))
        invest_above = attrs.get("invest_above", getattr(self.instance, "invest_above", Decimal("3.0")))
        if invest_above < retire_below:
            raise serializers.ValidationError(
                {"invest_above": f"Must be at least retire_below ({retire_below}): invest is above retire."}
            )
        return attrs


class FiguresSerializer(serializers.Serializer):
    products = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=24, decimal_places=2)
    cost = serializers.DecimalField(max_digits=24, decimal_places=2)
    net = serializers.DecimalField(max_digits=24, decimal_places=2)
    ratio = serializers.DecimalField(max_digits=24, decimal_places=4, allow_null=True, help_text="value / cost")
    roi = serializers.DecimalField(max_digits=24, decimal_places=4, allow_null=True, help_text="net / cost")
    recent_value = serializers.DecimalField(max_digits=24, decimal_places=2)
    recent_cost = serializers.DecimalField(max_digits=24, decimal_places=2)
    recent_ratio = serializers.DecimalField(max_digits=24, decimal_places=4, allow_null=True)
    recommendations = serializers.DictField(child=serializers.IntegerField(), help_text="Products per recommendation.")


class DomainFiguresSerializer(FiguresSerializer):
    domain = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()


class BetFiguresSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    expected_value = serializers.DecimalField(max_digits=24, decimal_places=2)
    realised_value = serializers.DecimalField(max_digits=24, decimal_places=2)


class PortfolioSummarySerializer(serializers.Serializer):
    as_of = serializers.DateField()
    currency = serializers.CharField()
    evaluated_on = serializers.DateField(allow_null=True, help_text="The latest evaluation date the figures use.")
    totals = FiguresSerializer()
    domains = DomainFiguresSerializer(many=True)
    bets = serializers.DictField(child=BetFiguresSerializer(), help_text="By status: open, won, lost, void.")
    open_alerts = serializers.DictField(child=serializers.IntegerField(), help_text="Unresolved alerts by kind.")


class PortfolioQuerySerializer(serializers.Serializer):
    as_of = BoundedDateField(required=False, help_text="Today when left out.")
