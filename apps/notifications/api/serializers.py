"""Webhook subscriptions as JSON. The secret is write-only: shown once, in the answer to a create."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from apps.catalog.models import Domain
from apps.core.api.serializers import ApiModelSerializer
from apps.governance.models import AlertKind
from apps.notifications.models import WebhookSubscription
from apps.notifications.services.webhooks import webhook_secret_key, webhook_url_check


class WebhookSubscriptionSerializer(ApiModelSerializer):
    url = serializers.CharField(
        max_length=500,
        help_text="http(s) URL of the receiver. Loopback, link-local and private addresses are refused.",
    )
    secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Standard Webhooks secret (`whsec_` + base64 of 24-64 bytes). Generated when left out; "
        "returned once, in the answer to the create.",
    )
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=AlertKind.choices),
        required=False,
        allow_empty=True,
        help_text="Alert kinds to send; empty or left out for all.",
    )
    domains = serializers.PrimaryKeyRelatedField(
        queryset=Domain.objects.all(), many=True, required=False, help_text="Domain ids; empty for all."
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "name",
            "url",
            "secret",
            "format",
            "kinds",
            "domains",
            "is_active",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_by", "created_at", "updated_at"]

    def validate_url(self, value: str) -> str:
        try:
            return webhook_url_check(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error

    def validate_secret(self, value: str) -> str:
        if value:
            try:
                webhook_secret_key(value)
            except DjangoValidationError as error:
                raise serializers.ValidationError(error.messages) from error
        return value


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    """The answer to a create: the subscription with its secret, the only time it is shown."""

    secret = serializers.CharField(read_only=True)
