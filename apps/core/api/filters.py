"""Filters shared by the resources: ids are integers, dates are bounded ISO dates."""

from __future__ import annotations

from datetime import date

import django_filters
from django import forms

from apps.core.api.ingest import MAX_DATE, MIN_DATE


class IdField(forms.IntegerField):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class IdFilter(django_filters.Filter):
    """`?data_product=3`: the integer id of a related record (an unknown id matches nothing)."""

    field_class = IdField


class BoundedDateField(forms.DateField):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        super().__init__(*args, **kwargs)

    def validate(self, value: date | None) -> None:
        super().validate(value)
        if value and not MIN_DATE <= value <= MAX_DATE:
            raise forms.ValidationError(f"Enter a date between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}.")


class DateFilter(django_filters.DateFilter):
    """`?as_of=2026-03-01`: an ISO date (YYYY-MM-DD) within the accepted range."""

    field_class = BoundedDateField
