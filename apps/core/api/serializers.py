"""Base serializers: dates within a sane range, model validation (constraints included) before saving."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import models
from rest_framework import relations, serializers

from apps.core.api.ingest import MAX_DATE, MIN_DATE, PLAIN_DECIMAL_MESSAGE, date_range_error, is_plain_decimal
from apps.core.api.representation import read_plan, represent


class BoundedDateField(serializers.DateField):
    """An ISO date between MIN_DATE and MAX_DATE (other years are typing errors)."""

    def to_internal_value(self, value: Any) -> date:
        day = super().to_internal_value(value)
        message = date_range_error(day)
        if message:
            raise serializers.ValidationError(message)
        return day


class PlainDecimalField(serializers.DecimalField):
    """A DecimalField whose text form is plain ASCII (`-?digits(.digits)?`): no "1_000", no full-width digits."""

    def to_internal_value(self, data: Any) -> Any:
        number = super().to_internal_value(data)  # DRF's own messages for what is no number at all
        if isinstance(data, str) and not is_plain_decimal(data):
            raise serializers.ValidationError(PLAIN_DECIMAL_MESSAGE)
        return number


def wrong_json_type(field: serializers.Field, value: Any) -> str | None:
    """Why `value` is not of the JSON type the schema declares for `field` (None when it is).

    DRF converts quietly (`"name": 12` becomes "12", `"is_active": "yes"` becomes True, `"goal": "3"`
    becomes 3); a client that sends the wrong type has a bug it should hear about.
    """
    if value is None:
        return None  # DRF answers null itself (allowed or "may not be null")
    if isinstance(field, (serializers.CharField, serializers.DateField, serializers.DateTimeField)):
        return None if isinstance(value, str) else "Not a valid string."
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be true or false."
    if isinstance(field, (serializers.IntegerField, relations.PrimaryKeyRelatedField)):
        return None if isinstance(value, int) and not isinstance(value, bool) else "A whole number is required."
    if isinstance(field, relations.ManyRelatedField):
        if not isinstance(value, list):
            return "Expected a list of ids."
        if any(not isinstance(item, int) or isinstance(item, bool) for item in value):
            return "Every id must be a whole number."
        return None
    if isinstance(field, serializers.DecimalField):
        # The schema declares a string or a number (apps.core.api.schema.DecimalFieldExtension).
        ok = isinstance(value, (str, int, float, Decimal)) and not isinstance(value, bool)
        return None if ok else "A number (or a string holding one) is required."
    return None


class StrictTypesMixin:
    """Refuses (400) request values whose JSON type differs from the schema's, field by field.

    And text longer than the schema's `maxLength`, counted as sent: DRF trims surrounding
    whitespace before it counts, so it took a name one space too long for its schema.
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            errors: dict[str, list[str]] = {}
            for name, field in self.fields.items():  # type: ignore[attr-defined]
                if field.read_only or name not in data:
                    continue
                value = data[name]
                message = wrong_json_type(field, value)
                limit = field.max_length if isinstance(field, serializers.CharField) else None
                if not message and limit is not None and isinstance(value, str) and len(value) > limit:
                    message = f"Ensure this field has no more than {limit} characters."
                if message:
                    errors[name] = [message]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]


class ApiSerializer(StrictTypesMixin, serializers.Serializer):
    """A plain request or answer serializer of the API (strict JSON types on input)."""


class ApiModelSerializer(StrictTypesMixin, serializers.ModelSerializer):
    """ModelSerializer whose date fields are bounded (see BoundedDateField), strict about JSON types,
    and whose answers are read off a plan worked out once per serializer (`representation`)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: BoundedDateField,
    }

    def to_representation(self, instance: Any) -> dict[str, Any]:
        model = self.Meta.model
        if not isinstance(instance, model):  # a dict or another object: DRF reads it its own way
            return super().to_representation(instance)
        plan = self.__dict__.get("_read_plan")
        if plan is None:
            plan = self.__dict__["_read_plan"] = read_plan(self, model)
        return represent(plan, instance)


class CsvUploadSerializer(serializers.Serializer):
    """The request of the `import/` actions: a multipart form with the file in `file`."""

    file = serializers.FileField(help_text="A UTF-8 CSV file with a header row.")


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The row's number from 1; 0 is the request or file as a whole.")
    # Named as in the body; shadows Serializer.errors, harmless on this documentation-only serializer.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()), help_text="Messages by field."
    )


class ErrorSerializer(serializers.Serializer):
    """Error answers: `detail` for a refusal; `{field: [messages]}` for bad input (any field name);
    `rows` for bulk writes and imports."""

    detail = serializers.CharField(required=False)
    rows = RowErrorSerializer(many=True, required=False)


__all__ = [
    "MAX_DATE",
    "MIN_DATE",
    "ApiModelSerializer",
    "ApiSerializer",
    "BoundedDateField",
    "CsvUploadSerializer",
    "ErrorSerializer",
]
