"""OpenAPI generation: the schema is a contract for generated clients (DESIGN.md, "Interfaces").

- every operation documents the error answers it can give;
- filters, `ordering`, pagination and `format` appear on GET operations that list (and `format`
  on every GET), never on writes or actions;
- every constraint the server enforces on a parameter is declared: ids from 1, page sizes from
  1 to 500, dates within MIN_DATE..MAX_DATE, no empty values, no NUL character in text.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema

from apps.core.api import filters
from apps.core.api.ingest import MAX_DATE, MIN_DATE
from apps.core.api.serializers import ErrorSerializer

MAX_ID = 2**63 - 1
# The years MIN_DATE..MAX_DATE (1900..2999) as a pattern: JSON Schema has no minimum for dates.
assert (MIN_DATE.year, MAX_DATE.year) == (1900, 2999), "keep DATE_PATTERN in step with the date range"
DATE_PATTERN = r"^(19[0-9]{2}|2[0-9]{3})-[0-9]{2}-[0-9]{2}$"


# Text without a NUL character, which Django's form and serializer fields refuse.
NO_NUL_PATTERN = r"^[^\x00]+$"


def bounded_date_schema() -> dict[str, Any]:
    return {"type": "string", "format": "date", "pattern": DATE_PATTERN}


class DecimalFieldExtension(OpenApiSerializerFieldExtension):
    """Decimals are answered as strings; in a request DRF takes a string or a JSON number, so say both."""

    target_class = "rest_framework.fields.DecimalField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction != "request":
            return schema
        number: dict[str, Any] = {"type": "number"}
        for bound in ("minimum", "maximum"):
            if bound in schema:
                number[bound] = schema[bound]
        text = {key: value for key, value in schema.items() if key not in ("description", "readOnly", "nullable")}
        result: dict[str, Any] = {"oneOf": [text, number]}
        if schema.get("nullable"):
            result["nullable"] = True
        if "description" in schema:
            result["description"] = schema["description"]
        return result


class BoundedDateFieldExtension(OpenApiSerializerFieldExtension):
    """Dates of request bodies and query serializers: ISO dates from 1900 to 2999."""

    target_class = "apps.core.api.serializers.BoundedDateField"

    def map_serializer_field(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        return bounded_date_schema()


ERROR_DESCRIPTIONS = {
    "400": "Bad input: a message per field (or per row and field for bulk writes); nothing was stored.",
    "401": "Not authenticated: send `Authorization: Token <key>` or log in.",
    "403": "Your role (or ownership) does not allow this; nothing was changed.",
    "404": "No such record (or page).",
    "409": "Conflicts with the stored data (still referenced, or changed meanwhile); nothing was changed.",
    "429": "Too many requests; retry later.",
}


class ApiAutoSchema(AutoSchema):
    """AutoSchema that adds the error answers of the API to every operation."""

    error_codes: tuple[str, ...] = ("400", "401", "403", "404", "409")

    def _get_paginator(self):  # drf-spectacular's hook
        # Only GET lists are paginated; a bulk write answers a plain list of what it stored.
        if self.method != "GET":
            return None
        return super()._get_paginator()

    def get_filter_backends(self) -> list[Any]:
        # drf-spectacular puts them on any operation answering a list (bulk writes too); the
        # server applies them to GET lists only.
        if self.method != "GET":
            return []
        return super().get_filter_backends()

    def _get_format_parameters(self) -> list[dict[str, Any]]:
        # `?format=csv` is for reading; a write answers JSON.
        if self.method != "GET":
            return []
        return super()._get_format_parameters()

    def _get_parameters(self) -> list[dict[str, Any]]:
        parameters = super()._get_parameters()
        filterset = self._filterset_class()
        for parameter in parameters:
            if parameter.get("in") != "query":
                continue
            query_filter = filterset.base_filters.get(parameter["name"]) if filterset else None
            schema = parameter.setdefault("schema", {})
            if isinstance(query_filter, filters.IdFilter):
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
            elif isinstance(query_filter, filters.DateFilter):
                parameter["schema"] = bounded_date_schema()
            elif schema.get("type") == "string" and "enum" not in schema and "pattern" not in schema:
                # The server refuses an empty value for every parameter (apps.core.api.viewsets), and
                # Django's form fields refuse a NUL character in any text.
                schema["minLength"] = 1
                schema["pattern"] = NO_NUL_PATTERN
            schema.pop("nullable", None)
        return parameters

    def _filterset_class(self) -> Any:
        if not self.get_filter_backends():
            return None
        view = self.view
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is None and getattr(view, "filterset_fields", None):
            try:
                return filters.ApiFilterBackend().get_filterset_class(view, view.get_queryset())  # type: ignore[attr-defined]
            except Exception:  # schema generation must not fail on a view's queryset
                return None
        return filterset_class

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        codes = getattr(self.view, "error_codes", None) or self.error_codes
        for code in codes:
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return responses
