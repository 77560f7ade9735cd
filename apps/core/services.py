"""Writes shared by the apps' services: plain records whose rules all live in the model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Model


def fields_apply(instance: Model, fields: Mapping[str, Any], allowed: frozenset[str]) -> list[tuple[str, Any]]:
    """Set the plain fields of `fields` on `instance`; returns the many-to-many ones to set after saving.

    A field outside `allowed` is a programming error (the caller's serializer or form chose it).
    """
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"Unexpected fields: {', '.join(sorted(unknown))}")
    many_to_many = []
    for name, value in fields.items():
        if instance._meta.get_field(name).many_to_many:
            many_to_many.append((name, value))
        else:
            setattr(instance, name, value)
    return many_to_many


def instance_save(instance: Model, many_to_many: Sequence[tuple[str, Any]] = ()) -> Model:
    """Validate `instance` (fields, uniques, check constraints) with a message per field, save it, then
    set its many-to-many values."""
    instance.full_clean()
    instance.save()
    for name, value in many_to_many:
        getattr(instance, name).set(value)
    return instance
