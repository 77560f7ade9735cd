"""The base of every API view: role scoping, error answers, pagination, CSV export.

A resource's viewset declares `access` (an `apps.core.api.access.AccessPolicy`), a selector in
`get_queryset`, and the services its writes call (`create_object`, `update_object`,
`delete_object`). Everything about who may do what happens here and in `RolePermission`:

- reading and each action need a role granted by the policy (401 anonymous, 403 otherwise);
- a write on an existing row needs the row to be inside the grant's scope (403 otherwise);
- a create whose grant is limited to the user's own rows needs the row it hangs from
  (`create_target`: the product of a cost, the KPI of a measurement) to be theirs;
- an update that changes a field with a grant of its own (`AccessPolicy.fields`) needs it.

Other apps (notifications' webhooks) build on `ApiViewSet` the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.db.models import Model, QuerySet
from django.http import StreamingHttpResponse
from rest_framework import mixins, serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.schemas.inspectors import ViewInspector
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from apps.core.api import access
from apps.core.api.exceptions import api_exception_handler
from apps.core.api.pagination import ApiPagination
from apps.core.api.permissions import RolePermission
from apps.core.api.renderers import CSVRenderer, csv_lines
from apps.core.api.schema import ApiAutoSchema

if TYPE_CHECKING:
    from rest_framework.permissions import _PermissionClass  # a name of the stubs only

CSV_CHUNK = 1000


class ApiViewMixin:
    """What every API view shares, whether a viewset or a plain APIView."""

    access: access.AccessPolicy = access.READ_ONLY
    permission_classes: Sequence[_PermissionClass] = [RolePermission]
    renderer_classes: Sequence[type[BaseRenderer]] = [JSONRenderer, CSVRenderer]
    schema: ViewInspector | None = ApiAutoSchema()

    def get_exception_handler(self):  # DRF's hook: the domain's errors get their answers here
        return api_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        # After authentication and permissions: 401 and 403 come before a 400.
        check_query_parameters(request)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        return json_for_errors(response)


def check_query_parameters(request: Request) -> None:
    """Refuse (400) a query parameter given more than once or given empty.

    Every parameter of the API takes one value: DRF and django-filter would use the last of
    repeated values, and treat `?kind=` as "no filter", so a client's mistake would go unseen.
    """
    errors: dict[str, list[str]] = {}
    for name in request.query_params:
        values = request.query_params.getlist(name)
        if len(values) > 1:
            errors[name] = ["Give this parameter once."]
        elif values[0] == "":
            errors[name] = ["This parameter needs a value; leave it out to not filter on it."]
    if errors:
        raise ValidationError(errors)


def json_for_errors(response: Any) -> Any:
    """Error answers are JSON whatever `?format=` asked for (a CSV of an error helps no one)."""
    renderer = getattr(response, "accepted_renderer", None)
    if isinstance(response, Response) and response.status_code >= 400 and not isinstance(renderer, JSONRenderer):
        response.accepted_renderer = JSONRenderer()
        response.accepted_media_type = JSONRenderer.media_type
    return response


class ApiView(ApiViewMixin, APIView):
    """A plain API endpoint (not a resource) under the same rules as the viewsets.

    Its "action" is `read` for GET/HEAD/OPTIONS and the method's name otherwise (look it up in
    `access.actions`); a method the view does not implement gets 405, not 403.
    """

    action: str | None = "read"  # per request in initial(); "read" while the schema is generated

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        method = (request.method or "").lower()
        if not hasattr(self, method):
            self.action = None
        else:
            self.action = "read" if method in ("get", "head", "options") else method
        super().initial(request, *args, **kwargs)


class ApiViewSet(ApiViewMixin, GenericViewSet):
    """Role-scoped viewset; see the module docstring."""

    pagination_class: type[BasePagination] | None = ApiPagination
    # The field of a create's validated data whose row must be the user's own under Scope.OWN.
    create_target: str | None = None

    # --- scoping ---------------------------------------------------------------------------
    def grant(self, action: str | None = None) -> access.Grant:
        return self.access.for_action(action or self.action, safe=False)

    def writable(self, queryset: QuerySet, action: str | None = None) -> QuerySet:
        """`queryset` narrowed to the rows the user may act on with `action` (default: this one)."""
        return access.restrict(queryset, self.request.user, self.grant(action))

    def authorize_objects(
        self, objects: Iterable[Model], *, granted: access.Grant | None = None, message: str | None = None
    ) -> None:
        """Refuse (403) unless the user may act on every one of `objects` under `granted`."""
        granted = self.grant() if granted is None else granted
        by_model: dict[type[Model], set[int]] = {}
        for obj in objects:
            by_model.setdefault(type(obj), set()).add(obj.pk)
        for model, ids in by_model.items():
            forbidden = access.forbidden_ids(model, ids, self.request.user, granted)
            if forbidden:
                names = ", ".join(sorted(str(pk) for pk in forbidden))
                raise PermissionDenied(
                    message or f"You may not do this with {model._meta.verbose_name} {names}: it is not yours."
                )

    def authorize_create(self, data: Mapping[str, Any]) -> None:
        """A create under an OWN grant needs its target row (`create_target`) to be the user's."""
        if access.scope_of(self.request.user, self.grant()) is access.Scope.ALL:
            return
        target = data.get(self.create_target) if self.create_target else None
        if not isinstance(target, Model):
            raise PermissionDenied("Your role does not allow this.")
        self.authorize_objects([target])

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.action == "create":
            self.authorize_create_request(request.data)

    def authorize_create_request(self, data: Any) -> None:
        """Permission before validation: refuse (403) a create whose target row, named by id in the
        raw body, is not the user's, whatever else is wrong with the request.

        An id that names no row (or is not an id) is left to validation, which answers 400.
        """
        if access.scope_of(self.request.user, self.grant()) is access.Scope.ALL or not self.create_target:
            return
        raw = data.get(self.create_target) if isinstance(data, Mapping) else None
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            return
        try:
            pk = int(raw)
        except ValueError:
            return
        field = cast(serializers.Serializer, self.get_serializer()).fields.get(self.create_target)
        model = getattr(getattr(field, "queryset", None), "model", None)
        if model is None or not model._default_manager.filter(pk=pk).exists():
            return
        self.authorize_objects([model(pk=pk)])

    def authorize_field(self, name: str) -> None:
        """Refuse (403) unless the user holds the grant of field `name` (AccessPolicy.fields)."""
        if not access.may(self.request.user, self.access.fields.get(name, access.NOBODY)):
            raise PermissionDenied(f"Your role does not allow setting {name}.")

    def changed_fields(self, instance: Model, data: Mapping[str, Any]) -> set[str]:
        """The names of the fields whose value in `data` differs from the stored one."""
        changed = set()
        for name, value in data.items():
            try:
                model_field = instance._meta.get_field(name)
            except FieldDoesNotExist:  # not a model field: the view checks it itself
                continue
            if not (model_field.concrete or model_field.many_to_many):
                continue  # a reverse relation (a KPI's attributions): the view checks it itself
            if isinstance(model_field, models.ManyToManyField):
                current = {obj.pk for obj in getattr(instance, name).all()}
                if current != {obj.pk for obj in value}:
                    changed.add(name)
            elif (attname := getattr(model_field, "attname", name)) != name and isinstance(value, Model | type(None)):
                if getattr(instance, attname) != (value.pk if value is not None else None):
                    changed.add(name)
            elif getattr(instance, name) != value:
                changed.add(name)
        return changed

    def authorize_changes(self, instance: Model, data: Mapping[str, Any]) -> None:
        """Fields with their own grant need it; any other change needs the update grant on the row."""
        changed = self.changed_fields(instance, data)
        governed = changed & set(self.access.fields)
        for name in sorted(governed):
            if access.forbidden_ids(type(instance), [instance.pk], self.request.user, self.access.fields[name]):
                raise PermissionDenied(f"Your role does not allow changing {name}.")
        if changed - governed and access.forbidden_ids(type(instance), [instance.pk], self.request.user, self.grant()):
            raise PermissionDenied("Your role does not allow changing this record.")

    # --- writes: subclasses call their services -------------------------------------------
    def create_object(self, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    # `instance` is a row of the viewset's model (Any: subclasses name their own model).
    def update_object(self, instance: Any, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    def delete_object(self, instance: Any) -> None:
        instance.delete()

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        self.authorize_create(serializer.validated_data)
        with transaction.atomic():
            serializer.instance = self.create_object(dict(serializer.validated_data))

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        instance = serializer.instance
        assert instance is not None  # an update always has its row
        self.authorize_changes(instance, serializer.validated_data)
        with transaction.atomic():
            serializer.instance = self.update_object(instance, dict(serializer.validated_data))

    def perform_destroy(self, instance: Model) -> None:
        with transaction.atomic():
            self.delete_object(instance)

    # --- CSV export -------------------------------------------------------------------------
    def wants_csv(self) -> bool:
        renderer = getattr(self.request, "accepted_renderer", None)
        return getattr(renderer, "format", None) == "csv"

    def csv_response(self, queryset: QuerySet) -> StreamingHttpResponse:
        """The whole filtered list as CSV, streamed in chunks (a fixed number of queries per chunk)."""
        serializer_class = self.get_serializer_class()
        columns = list(cast(serializers.Serializer, serializer_class(context=self.get_serializer_context())).fields)

        def rows() -> Iterator[Mapping[str, Any]]:
            chunk: list[Model] = []
            for obj in queryset.iterator(chunk_size=CSV_CHUNK):
                chunk.append(obj)
                if len(chunk) == CSV_CHUNK:
                    yield from serializer_class(chunk, many=True, context=self.get_serializer_context()).data
                    chunk = []
            if chunk:
                yield from serializer_class(chunk, many=True, context=self.get_serializer_context()).data

        response = StreamingHttpResponse(csv_lines(columns, rows()), content_type="text/csv; charset=utf-8")
        name = getattr(self, "basename", None) or "export"
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response


class CsvListModelMixin(mixins.ListModelMixin):
    """List with pagination as JSON, or the whole filtered list with `?format=csv`."""

    # The CSV export streams: a wider return type than DRF's `list` declares.
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response | StreamingHttpResponse:  # type: ignore[override]
        if self.wants_csv():  # type: ignore[attr-defined]
            # The CSV holds the whole filtered list, but bad paging parameters are still refused.
            paginator = self.paginator  # type: ignore[attr-defined]
            if paginator is not None:
                paginator.check_parameters(request)
            return self.csv_response(self.filter_queryset(self.get_queryset()))  # type: ignore[attr-defined]
        return super().list(request, *args, **kwargs)


# ApiViewSet comes first so that its perform_create/update/destroy (scoping, then services)
# win over the DRF mixins' plain `serializer.save()`.
class ReadOnlyApiViewSet(ApiViewSet, CsvListModelMixin, mixins.RetrieveModelMixin):
    """List (with CSV export) and retrieve."""


class ModelApiViewSet(
    ApiViewSet,
    CsvListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    """Every CRUD method; writes go through `create_object`, `update_object`, `delete_object`."""
