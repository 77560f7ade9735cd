"""Domains, goals and data products as JSON: model field names, related records by id."""

from __future__ import annotations

from rest_framework import serializers

from apps.accounts.models import User
from apps.catalog.models import BusinessGoal, DataProduct, Domain
from apps.core.api.related_ids import IdsRelatedField
from apps.core.api.serializers import ApiModelSerializer

SLUG_HELP = "Letters, numbers, hyphens; made from the name when left out."


class DomainSerializer(ApiModelSerializer):
    class Meta:
        model = Domain
        fields = ["id", "name", "slug", "owner", "description"]
        extra_kwargs = {"slug": {"required": False, "allow_blank": True, "help_text": SLUG_HELP}}


class GoalSerializer(ApiModelSerializer):
    sponsor = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, help_text="Defaults to the user creating the goal."
    )

    class Meta:
        model = BusinessGoal
        fields = ["id", "name", "slug", "description", "domain", "sponsor", "starts_on", "ends_on", "status"]
        extra_kwargs = {"slug": {"required": False, "allow_blank": True, "help_text": SLUG_HELP}}


class DataProductSerializer(ApiModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        required=False,
        help_text="Defaults to the user registering the product; only administrators may name someone else.",
    )
    goals = IdsRelatedField(
        queryset=BusinessGoal.objects.all(), many=True, required=False, help_text="The ids of the goals it serves."
    )

    class Meta:
        model = DataProduct
        fields = [
            "id",
            "name",
            "slug",
            "domain",
            "owner",
            "description",
            "lifecycle",
            "launched_on",
            "sunset_on",
            "goals",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "slug": {"required": False, "allow_blank": True, "help_text": SLUG_HELP},
            "lifecycle": {
                "help_text": "Set freely when registering; afterwards only a governance lead changes it "
                "(proposed → active → deprecated → retired)."
            },
        }
