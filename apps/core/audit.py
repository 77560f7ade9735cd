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

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import models
from simple_history import register
from simple_history.models import HistoricalRecords


class AuditHistory(HistoricalRecords):
    """HistoricalRecords that also follows a many-to-many changed from its other side.

    `group.user_set.add(user)` changes the user's roles just as `user.groups.add(group)` does; the
    stock handler would try to record the group. Here each user concerned gets the record.
    """

    def m2m_changed(self, instance, action, attr, pk_set, reverse, **kwargs):  # type: ignore[no-untyped-def]
        if not reverse:
            return super().m2m_changed(instance, action, attr, pk_set, reverse, **kwargs)
        if action in ("post_add", "post_remove") and pk_set:
            for changed in kwargs["model"].objects.filter(pk__in=pk_set):
                super().m2m_changed(changed, action, attr, {instance.pk}, False, **kwargs)
        return None

    def post_save(self, instance, created, using=None, **kwargs):  # type: ignore[no-untyped-def]
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
    """Record the rows a `QuerySet.update()` just changed (it sends no signals), with no user.

    Call it in the same transaction, after the update: each row gets a "changed" record of its new state.
    """
    rows = list(model._default_manager.filter(pk__in=list(pks)))
    if rows:
        model.history.bulk_history_create(rows, update=True)  # type: ignore[attr-defined]
