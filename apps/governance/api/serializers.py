from __future__ import annotations

from rest_framework import serializers

from apps.accounts.models import User
from apps.core.api.serializers import ApiModelSerializer, ApiSerializer, BoundedDateField
from apps.governance.models import Alert, Decision, DecisionAction


class AlertSerializer(ApiModelSerializer):
    class Meta:
        model = Alert
        fields = [
            "id",
            "data_product",
            "kind",
            "status",
            "evaluation",
            "message",
            "opened_on",
            "created_at",
            "acknowledged_at",
            "acknowledged_by",
            "snoozed_until",
            "resolved_at",
            "resolution",
        ]
        read_only_fields = fields


class DecisionSerializer(ApiModelSerializer):
    class Meta:
        model = Decision
        fields = [
            "id",
            "alert",
            "data_product",
            "action",
            "rationale",
            "sunset_on",
            "new_owner",
            "previous_owner",
            "decided_by",
            "decided_at",
            "revisit_on",
        ]
        read_only_fields = ["alert", "previous_owner", "decided_by", "decided_at"]
        extra_kwargs = {
            "sunset_on": {"help_text": "Required to retire: the product is deprecated until then, then retired."},
            "new_owner": {"help_text": "Required to reassign the owner."},
            "revisit_on": {
                "help_text": "Until this date no alert of the same kind opens again for the product "
                "(default: today plus the policy's decision_quiet_days)."
            },
        }


class SnoozeSerializer(ApiSerializer):
    until = BoundedDateField(help_text="A date after today; the alert comes back after it.")


class DecideSerializer(ApiSerializer):
    action = serializers.ChoiceField(choices=DecisionAction.choices)
    rationale = serializers.CharField(help_text="Why: required.")
    sunset_on = BoundedDateField(required=False, allow_null=True, help_text="Required to retire.")
    new_owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
        help_text="Required to reassign the owner: an active user with the product owner role, or staff.",
    )
    revisit_on = BoundedDateField(
        required=False,
        allow_null=True,
        help_text="Until this date no alert of this kind opens again for the product "
        "(default: today plus the policy's decision_quiet_days; today for bet_due).",
    )
