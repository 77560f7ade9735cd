"""Domains (admins write), goals (executives write), data products (owners write, governance moves lifecycle)."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Model, QuerySet

from apps.accounts.auth import request_user
from apps.catalog import selectors, services
from apps.catalog.api.filters import DataProductFilter, DomainFilter, GoalFilter
from apps.catalog.api.serializers import DataProductSerializer, DomainSerializer, GoalSerializer
from apps.catalog.models import BusinessGoal, DataProduct, Domain
from apps.core.api import access
from apps.core.api.related_ids import related_ids_attach
from apps.core.api.viewsets import ModelApiViewSet


class DomainViewSet(ModelApiViewSet):
    """Lines of business. Everyone with a role reads them; administrators manage them."""

    access = access.DOMAINS
    serializer_class = DomainSerializer
    filterset_class = DomainFilter
    ordering_fields = ["id", "name", "slug"]

    def get_queryset(self):
        return selectors.domain_list()

    def create_object(self, data: dict[str, Any]) -> Model:
        return services.domain_create(**data)

    def update_object(self, instance: Domain, data: dict[str, Any]) -> Model:
        return services.domain_update(domain=instance, **data)


class GoalViewSet(ModelApiViewSet):
    """Business goals. Executives create and edit them; the sponsor defaults to the creator."""

    access = access.GOALS
    serializer_class = GoalSerializer
    filterset_class = GoalFilter
    ordering_fields = ["id", "name", "slug", "starts_on", "ends_on", "status"]

    def get_queryset(self):
        return selectors.goal_list()

    def create_object(self, data: dict[str, Any]) -> Model:
        data.setdefault("sponsor", self.request.user)
        return services.goal_create(**data)

    def update_object(self, instance: BusinessGoal, data: dict[str, Any]) -> Model:
        return services.goal_update(goal=instance, **data)


class DataProductViewSet(ModelApiViewSet):
    """Data products. A product owner registers one (becoming its owner) and edits their own;
    a governance lead changes the lifecycle (and sunset date); only an admin names another owner.
    Deleting is for products registered by mistake: only `proposed` ones."""

    access = access.DATA_PRODUCTS
    serializer_class = DataProductSerializer
    filterset_class = DataProductFilter
    ordering_fields = ["id", "name", "slug", "lifecycle", "launched_on", "sunset_on", "created_at", "updated_at"]

    def get_queryset(self):
        return selectors.data_product_list()

    def paginate_queryset(self, queryset: Any) -> list[Any] | None:
        # A page's goal ids in one query of the link table, not a prefetch (apps.core.api.related_ids).
        page = super().paginate_queryset(cast(QuerySet[DataProduct], queryset).prefetch_related(None))
        if page is not None:
            related_ids_attach(page, "goals")
        return page

    def create_object(self, data: dict[str, Any]) -> Model:
        owner = data.pop("owner", None) or request_user(self.request)
        if owner != self.request.user:
            self.authorize_field("owner")
        return services.data_product_create(owner=owner, **data)

    def update_object(self, instance: DataProduct, data: dict[str, Any]) -> Model:
        return services.data_product_update(data_product=instance, **data)

    def delete_object(self, instance: DataProduct) -> None:
        services.data_product_delete(data_product=instance)
