"""`/api/v1/webhooks/`: governance leads and administrators register webhook receivers."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.auth import request_user
from apps.core.api import access
from apps.core.api.viewsets import ModelApiViewSet
from apps.notifications.api.serializers import WebhookSubscriptionCreatedSerializer, WebhookSubscriptionSerializer
from apps.notifications.models import WebhookSubscription
from apps.notifications.selectors import webhook_subscription_list
from apps.notifications.services import webhooks

MANAGE_WEBHOOKS = access.grant(governance_lead=access.ALL)
# Receivers' URLs are internal plumbing: only the people who manage them read them.
WEBHOOKS = access.AccessPolicy(
    read=MANAGE_WEBHOOKS, create=MANAGE_WEBHOOKS, update=MANAGE_WEBHOOKS, destroy=MANAGE_WEBHOOKS
)


class WebhookSubscriptionViewSet(ModelApiViewSet):
    """Webhook subscriptions: where alert events are posted, signed with the Standard Webhooks scheme."""

    access = WEBHOOKS
    serializer_class = WebhookSubscriptionSerializer
    ordering_fields = ["id", "name", "created_at"]
    # Not "format": `?format=` chooses the answer's format (json or csv) on every list.
    filterset_fields = ["is_active"]

    def get_queryset(self):
        return webhook_subscription_list()

    def create_object(self, data: dict[str, Any]) -> Model:
        return webhooks.webhook_subscription_create(user=request_user(self.request), **data)

    def update_object(self, instance: WebhookSubscription, data: dict[str, Any]) -> Model:
        return webhooks.webhook_subscription_update(subscription=instance, **data)

    def delete_object(self, instance: WebhookSubscription) -> None:
        webhooks.webhook_subscription_delete(subscription=instance)

    @extend_schema(request=WebhookSubscriptionSerializer, responses={201: WebhookSubscriptionCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        created = WebhookSubscriptionCreatedSerializer(serializer.instance, context=self.get_serializer_context())
        return Response(created.data, status=status.HTTP_201_CREATED)
