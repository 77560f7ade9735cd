"""A list page's many-to-many ids read in one query of the link table, instead of a prefetch.

`prefetch_related` of a many-to-many builds, for every row of the page, a related manager and a
filtered queryset to hold that row's related objects (and the objects themselves), and DRF then
builds the manager again to list them: for a page of 50 data products that was 1.9 ms of
prefetching with no goal linked at all, against 0.6 ms for one query of the link table (issue
16: `data-products/` was the list nearest its goal of 4x the API root).

`related_ids_attach` reads the ids of a page's rows in one query, ordered by the related id as
the prefetches it replaces were, and keeps them on each instance; `IdsRelatedField` (a
`PrimaryKeyRelatedField` to declare with `many=True`) answers from them when they are there
and DRF's way otherwise (a detail, a write's answer), so every answer has the same shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models
from rest_framework import relations, serializers

_ATTACHED = "_related_ids"


def related_ids_attach(instances: Sequence[models.Model], field_name: str) -> None:
    """Keep on each of `instances` the ids its many-to-many `field_name` links to, ascending. One query."""
    if not instances:
        return
    field = type(instances[0])._meta.get_field(field_name)
    if not isinstance(field, models.ManyToManyField):
        raise TypeError(f"{field_name} is not a many-to-many field")
    through = field.remote_field.through
    assert through is not None  # Django makes one for every many-to-many
    source = through._meta.get_field(field.m2m_field_name())
    target = through._meta.get_field(field.m2m_reverse_field_name())
    assert isinstance(source, models.ForeignKey) and isinstance(target, models.ForeignKey)
    source_id, target_id = source.attname, target.attname
    by_owner: dict[Any, list[Any]] = {instance.pk: [] for instance in instances}
    links = through._default_manager.filter(**{f"{source_id}__in": list(by_owner)}).order_by(target_id)
    for owner_id, related_id in links.values_list(source_id, target_id):
        by_owner[owner_id].append(related_id)
    for instance in instances:
        instance.__dict__.setdefault(_ATTACHED, {})[field_name] = by_owner[instance.pk]


class _AttachedIds(list):
    """Ids kept by `related_ids_attach`: already the answer."""


class _IdsManyRelatedField(serializers.ManyRelatedField):
    def get_attribute(self, instance: Any) -> Any:
        attached = instance.__dict__.get(_ATTACHED, {}).get(self.source)
        if attached is not None:
            return _AttachedIds(attached)
        return super().get_attribute(instance)

    def to_representation(self, iterable: Any) -> list[Any]:
        if isinstance(iterable, _AttachedIds):
            return list(iterable)
        return super().to_representation(iterable)


class IdsRelatedField(serializers.PrimaryKeyRelatedField):
    """A list of related ids (`many=True`) that answers from the ids `related_ids_attach` kept, if any."""

    @classmethod
    def many_init(cls, *args: Any, **kwargs: Any) -> serializers.ManyRelatedField:
        # DRF's own `many_init`, with the list field that reads the kept ids.
        list_kwargs: dict[str, Any] = {"child_relation": cls(*args, **kwargs)}
        list_kwargs.update({key: value for key, value in kwargs.items() if key in relations.MANY_RELATION_KWARGS})
        return _IdsManyRelatedField(**list_kwargs)
