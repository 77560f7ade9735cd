"""A faster `to_representation` for the API's model serializers: DRF's answer, read off a plan.

DRF's `Serializer.to_representation` asks every field, for every row, how to read its value
(`get_attribute`: the source path, callable checks, the primary-key shortcut, error handling)
before formatting it. On a page of 50 KPIs with their attributions that asking was about half of
the endpoint's serialising, and `kpis/` sat at 4x the API root under 8 clients (issue 16).

`read_plan` works that out once per serializer instance (a list's child serves every row): a
model field named by the field's one-step source is read with `getattr` (what DRF's lookup comes
to for it), a primary-key relation by its `<name>_id` attribute (what DRF's shortcut reads). Any
other field (a method field, a dotted source, an annotation, a hyperlink, a many-to-many of ids)
is read DRF's way. Every value is still formatted by the field's own `to_representation`, and
None stays None as in DRF, so the JSON is DRF's to the byte;
`tests/apps/api/test_representation.py` compares both on every list endpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, NamedTuple

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from rest_framework import relations, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject


class FieldRead(NamedTuple):
    """How one readable field is read: `read` None means DRF's own `get_attribute`."""

    name: str
    field: serializers.Field
    read: Callable[[Any], Any] | None
    format: Callable[[Any], Any]


def read_plan(serializer: serializers.Serializer, model: type[models.Model]) -> tuple[FieldRead, ...]:
    """How each readable field of `serializer` reads an instance of `model`, in the fields' order."""
    return tuple(_field_read(field, model) for field in serializer.fields.values() if not field.write_only)


def _field_read(field: serializers.Field, model: type[models.Model]) -> FieldRead:
    name = str(field.field_name)  # bound to its serializer by now
    drf = FieldRead(name, field, None, field.to_representation)
    if len(field.source_attrs) != 1 or field.source == "*":
        return drf
    try:
        model_field = model._meta.get_field(field.source_attrs[0])
    except FieldDoesNotExist:  # a property, a method or an annotation
        return drf
    if isinstance(field, relations.PrimaryKeyRelatedField):
        # Only a forward foreign key (a OneToOneField is one too) has its id on the instance.
        if not isinstance(model_field, models.ForeignKey) or field.pk_field is not None:
            return drf
        return FieldRead(name, field, attrgetter(model_field.attname), _same)
    if isinstance(field, (relations.RelatedField, relations.ManyRelatedField)):
        return drf  # hyperlinks, slugs, lists of ids: DRF's own lookups
    # A plain model field, a nested serializer or a reverse relation: DRF's lookup is a getattr.
    return FieldRead(name, field, attrgetter(field.source_attrs[0]), field.to_representation)


def _same(value: Any) -> Any:
    return value


def represent(plan: tuple[FieldRead, ...], instance: Any) -> dict[str, Any]:
    """The answer for one instance, as DRF's `Serializer.to_representation` gives it."""
    answer: dict[str, Any] = {}
    for name, field, read, format_value in plan:
        if read is None:
            try:
                value = field.get_attribute(instance)
            except SkipField:
                continue
            is_none = (value.pk if isinstance(value, PKOnlyObject) else value) is None
        else:
            value = read(instance)
            is_none = value is None
        answer[name] = None if is_none else format_value(value)
    return answer
