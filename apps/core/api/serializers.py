"""Base serializers: dates within a sane range, model validation (constraints included) before saving."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import models
from rest_framework import serializers

from apps.core.api.ingest import MAX_DATE, MIN_DATE, PLAIN_DECIMAL_MESSAGE, date_range_error, is_plain_decimal


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


class ApiModelSerializer(serializers.ModelSerializer):
    """ModelSerializer whose date fields are bounded (see BoundedDateField)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: BoundedDateField,
    }


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


__all__ = ["MAX_DATE", "MIN_DATE", "ApiModelSerializer", "BoundedDateField", "CsvUploadSerializer", "ErrorSerializer"]
