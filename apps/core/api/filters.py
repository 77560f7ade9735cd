"""Filters shared by the resources: ids are integers, dates are bounded ISO dates."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

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


class ApiFilterSet(django_filters.FilterSet):
    """A FilterSet that refuses what django-filter would silently ignore.

    django-filter treats `?is_active=maybe` as "no filter" and lists everything; a client that
    made a typo would think its filter held. Here a boolean must be `true` or `false`.
    (Empty and repeated values are refused for every query parameter by the base view.)
    """

    BOOLEAN_VALUES = ("true", "false")

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, query_filter in self.filters.items():
            is_boolean = isinstance(query_filter, django_filters.BooleanFilter)
            if is_boolean and name in self.data and self.data.get(name) not in self.BOOLEAN_VALUES:
                self.form.add_error(name, "Enter true or false.")
                valid = False
        return valid


class ApiFilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend whose generated FilterSets (from `filterset_fields`) are ApiFilterSets."""

    filterset_base = ApiFilterSet


class ApiOrderingFilter(OrderingFilter):
    """`?ordering=name,-id`: refuses fields it cannot order by, rather than ignoring them."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            terms = [term.strip() for term in params.split(",")]
            valid = {name for name, _ in self.get_valid_fields(queryset, view, {"request": request})}
            unknown = [term for term in terms if term.lstrip("-") not in valid]
            if unknown:
                raise ValidationError(
                    {
                        self.ordering_param: [
                            f"Cannot order by {', '.join(unknown)}; choose from {', '.join(sorted(valid))}."
                        ]
                    }
                )
        return super().get_ordering(request, queryset, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        fields = ordering_fields_of(self, view)
        if fields:
            name = "(" + "|".join(re.escape(field) for field in fields) + ")"
            for parameter in parameters:
                parameter["schema"] = {"type": "string", "pattern": f"^-?{name}(,-?{name})*$"}
        return parameters


def ordering_fields_of(ordering_filter: OrderingFilter, view: Any) -> list[str]:
    """The field names `?ordering=` accepts on `view` (its `ordering_fields`)."""
    fields = getattr(view, "ordering_fields", None)
    if fields in (None, "__all__"):
        return []
    return [field if isinstance(field, str) else field[0] for field in fields]
