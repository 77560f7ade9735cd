"""The audit trail: who changed what, when, before and after (django-simple-history).

Every audited model gets a `history` manager and a historical table, by one line in its models.py:

    history = audit_trail()                       # a model of our own
    audit_register(SomeModel)                     # a model we do not own (AbstractUser's groups, a library's)

Who: `simple_history.middleware.HistoryRequestMiddleware` hands the request's user to every save of
a web page, the admin or the API (DRF sets the token user on the same request). Commands and Celery
tasks have no request: their changes are recorded with no user, shown as "system".

Signals record `save()`, `delete()` and many-to-many changes. Bulk writes send no signals, so the
services that write audited rows in bulk record them here: `bulk_create_with_history`,
`bulk_update_with_history` (simple_history.utils) or `audit_record_updated` after a
`QuerySet.update`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from simple_history import register
from simple_history.models import HistoricalRecords


class AuditHistory(HistoricalRecords):
    """HistoricalRecords that also follows a many-to-many changed from its other side.

    `group.user_set.add(user)` changes the user's roles just as `user.groups.add(group)` does; the
    stock handler would try to record the group. Here each user concerned gets the record.
    """

    def m2m_changed(self, instance, action, attr, pk_set, reverse, **kwargs):
        if not reverse:
            return super().m2m_changed(instance, action, attr, pk_set, reverse, **kwargs)
        if action in ("post_add", "post_remove") and pk_set:
            for changed in kwargs["model"].objects.filter(pk__in=pk_set):
                super().m2m_changed(changed, action, attr, {instance.pk}, False, **kwargs)
        return None

    def post_save(self, instance, created, using=None, **kwargs):
        # A save of untracked columns only (a login's `last_login`, a touched `updated_at`) is no change.
        update_fields = kwargs.get("update_fields")
        if not created and update_fields and set(update_fields) <= set(self.excluded_fields) | {"updated_at"}:
            return None
        return super().post_save(instance, created, using=using, **kwargs)


def audit_trail(*, m2m_fields: Sequence[str] = (), excluded_fields: Sequence[str] = ()) -> HistoricalRecords:
    """The `history = audit_trail()` line of an audited model.

    `excluded_fields`: bookkeeping columns (`updated_at`) that change on every save and tell a reader nothing.
    The trail outlives the rows it describes: deleting a product keeps its history.
    """
    return AuditHistory(m2m_fields=list(m2m_fields), excluded_fields=list(excluded_fields))


def audit_register(model: type[models.Model], *, m2m_fields: Sequence[str] = (), app: str | None = None) -> None:
    """Audit a model whose class we cannot add a line to (its historical model lives in `app`)."""
    register(model, app=app, records_class=AuditHistory, m2m_fields=list(m2m_fields))


def audit_record_updated(model: type[models.Model], *, pks: Iterable[Any]) -> None:
    """Record the rows a `QuerySet.update()` or `bulk_update` just changed (they send no signals).

    Call it in the same transaction, after the update: each row gets a "changed" record of its new state,
    by the request's user if there is one (none from a command or a task).
    """
    rows = list(model._default_manager.filter(pk__in=list(pks)))
    if rows:
        model.history.bulk_history_create(rows, update=True)  # type: ignore[attr-defined]


# --- reading the trail ------------------------------------------------------------------

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class AuditEntry:
    """One change of one audited row: who, when, what, and each field's value before and after."""

    when: datetime
    who: str
    action: str
    subject: str
    changes: tuple[FieldChange, ...]
    history_id: int


def _display(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, (set, frozenset, list, tuple)):
        return ", ".join(sorted(str(item) for item in value)) or "—"
    return str(value)


# A group of versions to show: historical rows of one model, and how to name the row each one is about.
# `subject(record, name_of)` may name related rows with `name_of(model, pk)` (resolved with the rest).
Subject = Callable[[Any, Callable[[type[models.Model], Any], str]], str]


def audit_entries(groups: Sequence[tuple[Sequence[Any], Subject]], *, limit: int = 50) -> list[AuditEntry]:
    """The trail of several groups of versions (each every version of the objects concerned), newest first.

    Each version is compared with the previous version of the same object; foreign keys and
    many-to-many members are shown by name. A fixed number of queries whatever the number of
    versions: the callers' queries (`audit_history_queryset`) and one per related model named.
    """
    wanted: dict[type[models.Model], set[Any]] = defaultdict(set)
    prepared = []
    for records, subject in groups:
        if not records:
            continue
        history_model = type(records[0])
        tracked = [field for field in history_model.tracked_fields if field.name != "id" and field.editable]
        m2m_fields = list(getattr(history_model, "_history_m2m_fields", []))
        members: dict[int, dict[str, frozenset[Any]]] = {}
        for record in records:
            for field in tracked:
                if field.is_relation and getattr(record, f"{field.name}_id") is not None:
                    wanted[field.related_model].add(getattr(record, f"{field.name}_id"))
            members[record.history_id] = {}
            for field in m2m_fields:
                target = field.m2m_reverse_field_name()
                rows = getattr(record, _m2m_accessor(history_model)).all()
                ids = frozenset(getattr(row, f"{target}_id") for row in rows)
                members[record.history_id][field.name] = ids
                wanted[field.related_model] |= ids
        prepared.append((records, subject, tracked, m2m_fields, members))
    names = {
        model: {obj.pk: str(obj) for obj in model._default_manager.filter(pk__in=ids)} for model, ids in wanted.items()
    }

    def name_of(model: type[models.Model], pk: Any) -> str:
        return names.get(model, {}).get(pk, f"#{pk} (deleted)")

    entries: list[AuditEntry] = []
    for records, subject, tracked, m2m_fields, members in prepared:
        relations = {field.name: field.related_model for field in [*tracked, *m2m_fields] if field.is_relation}

        def shown(field_name: str, value: Any, relations: dict = relations) -> str:
            model = relations.get(field_name)
            if model is None or value is None:
                return _display(value)
            if isinstance(value, frozenset):
                return _display({name_of(model, item) for item in value})
            return _display(name_of(model, value))

        previous: dict[Any, Any] = {}
        for record in sorted(records, key=lambda r: (r.history_date, r.history_id)):
            before = previous.get(record.id)
            previous[record.id] = record
            changes: list[FieldChange] = []
            if record.history_type != "-":
                for field in tracked:
                    attname = f"{field.name}_id" if field.is_relation else field.name
                    new = getattr(record, attname)
                    if before is None:
                        if new not in (None, ""):
                            changes.append(FieldChange(str(field.verbose_name), "—", shown(field.name, new)))
                    elif getattr(before, attname) != new:
                        old = getattr(before, attname)
                        changes.append(
                            FieldChange(str(field.verbose_name), shown(field.name, old), shown(field.name, new))
                        )
                for field in m2m_fields:
                    new_ids = members[record.history_id][field.name]
                    old_ids = members[before.history_id][field.name] if before is not None else frozenset()
                    if new_ids != old_ids:
                        changes.append(
                            FieldChange(str(field.verbose_name), shown(field.name, old_ids), shown(field.name, new_ids))
                        )
            if record.history_type == "~" and not changes:
                continue  # a save that changed nothing tracked
            user = record.history_user
            entries.append(
                AuditEntry(
                    when=record.history_date,
                    who=user.username if user is not None else "system",
                    action=ACTIONS.get(record.history_type, record.history_type),
                    subject=subject(record, name_of),
                    changes=tuple(changes),
                    history_id=record.history_id,
                )
            )
    entries.sort(key=lambda entry: (entry.when, entry.history_id), reverse=True)
    return entries[:limit]


def _m2m_accessor(history_model: type[models.Model]) -> str:
    return next(
        str(relation.get_accessor_name())
        for relation in history_model._meta.related_objects
        if relation.field.name == "history"
    )


def audit_history_queryset(model: type[models.Model], **filters: Any) -> models.QuerySet:
    """Every version of the `model` rows matching `filters`, ready for `audit_entries`."""
    queryset = model.history.filter(**filters).select_related("history_user")  # type: ignore[attr-defined]
    history_model = queryset.model
    if getattr(history_model, "_history_m2m_fields", None):
        queryset = queryset.prefetch_related(_m2m_accessor(history_model))
    return queryset
