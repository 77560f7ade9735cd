"""Writes with rules for the catalog: data products and their lifecycle."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.text import slugify

from apps.accounts.models import User
from apps.catalog.models import BusinessGoal, ConsciousDebt, DataProduct, Domain, GoalStatus, Lifecycle
from apps.core.audit import audit_record_updated
from apps.core.services import fields_apply, instance_save

# Lifecycle moves a governance lead may make by hand; retirement normally comes from a decision.
ALLOWED_LIFECYCLE_MOVES: dict[str, set[str]] = {
    Lifecycle.PROPOSED: {Lifecycle.ACTIVE, Lifecycle.RETIRED},
    Lifecycle.ACTIVE: {Lifecycle.DEPRECATED, Lifecycle.RETIRED},
    Lifecycle.DEPRECATED: {Lifecycle.ACTIVE, Lifecycle.RETIRED},
    Lifecycle.RETIRED: set(),
}


@transaction.atomic
def data_product_set_lifecycle(
    *, data_product: DataProduct, lifecycle: str, on: date, sunset_on: date | None = None
) -> DataProduct:
    """Move a product through its lifecycle; activating sets `launched_on` when it is empty."""
    product = DataProduct.objects.select_for_update().get(pk=data_product.pk)
    if lifecycle == product.lifecycle:
        return product
    if lifecycle not in ALLOWED_LIFECYCLE_MOVES.get(product.lifecycle, set()):
        raise ValidationError({"lifecycle": f"A {product.lifecycle} product cannot become {lifecycle}."})
    product.lifecycle = lifecycle
    if lifecycle == Lifecycle.ACTIVE:
        product.launched_on = product.launched_on or on
        product.sunset_on = None
    elif lifecycle == Lifecycle.DEPRECATED:
        product.sunset_on = sunset_on or product.sunset_on
    elif lifecycle == Lifecycle.RETIRED:
        product.sunset_on = product.sunset_on or on
    product.full_clean()
    product.save()
    return product


@transaction.atomic
def data_products_retire_due(*, as_of: date) -> list[int]:
    """Retire every deprecated product whose sunset date has come; returns their ids."""
    due_ids = list(
        DataProduct.objects.select_for_update()
        .filter(lifecycle=Lifecycle.DEPRECATED, sunset_on__lte=as_of)
        .values_list("pk", flat=True)
    )
    if due_ids:
        DataProduct.objects.filter(pk__in=due_ids).update(lifecycle=Lifecycle.RETIRED)
        audit_record_updated(DataProduct, pks=due_ids)  # an update() sends no signal: the trail records it here
    return due_ids


# --- plain records: domains, goals, data products (used by the API) ---------------------------

_DOMAIN_FIELDS = frozenset({"name", "slug", "owner", "description"})
_GOAL_FIELDS = frozenset({"name", "slug", "description", "domain", "sponsor", "starts_on", "ends_on", "status"})
_PRODUCT_FIELDS = frozenset({"name", "slug", "domain", "owner", "description", "launched_on", "sunset_on", "goals"})


def _slug_or_error(slug: str, name: str) -> str:
    """`slug`, or one made from `name` when empty; ValidationError when none can be made."""
    slug = slug or slugify(name)
    if not slug:
        raise ValidationError({"slug": "Enter a slug (letters, numbers, hyphens): none can be made from the name."})
    return slug


# Time spans the database checks too: said here per field, rather than as a violated constraint.
_SPANS: dict[type[Model], tuple[str, str, str]] = {
    BusinessGoal: ("starts_on", "ends_on", "A goal cannot end before it starts."),
    DataProduct: ("launched_on", "sunset_on", "The sunset date cannot be before the launch date."),
}


def _save(instance: Model, many_to_many: list[tuple[str, Any]]) -> None:
    span = _SPANS.get(type(instance))
    if span is not None:
        start, end = getattr(instance, span[0]), getattr(instance, span[1])
        if start is not None and end is not None and end < start:
            raise ValidationError({span[1]: span[2]})
    instance_save(instance, many_to_many)


@transaction.atomic
def domain_create(*, name: str, slug: str = "", owner: User | None = None, description: str = "") -> Domain:
    """Create a domain; the slug defaults to one made from the name."""
    domain = Domain(name=name, slug=_slug_or_error(slug, name), owner=owner, description=description)
    _save(domain, [])
    return domain


@transaction.atomic
def domain_update(*, domain: Domain, **fields: Any) -> Domain:
    """Change a domain's name, slug, owner or description."""
    _save(domain, fields_apply(domain, fields, _DOMAIN_FIELDS))
    return domain


@transaction.atomic
def goal_create(
    *,
    name: str,
    domain: Domain,
    sponsor: User,
    starts_on: date,
    ends_on: date,
    slug: str = "",
    description: str = "",
    status: str = GoalStatus.ACTIVE,
) -> BusinessGoal:
    """Create a business goal; its time span must not end before it starts."""
    goal = BusinessGoal(
        name=name,
        slug=_slug_or_error(slug, name),
        description=description,
        domain=domain,
        sponsor=sponsor,
        starts_on=starts_on,
        ends_on=ends_on,
        status=status,
    )
    _save(goal, [])
    return goal


@transaction.atomic
def goal_update(*, goal: BusinessGoal, **fields: Any) -> BusinessGoal:
    """Change any of a goal's fields (name, slug, description, domain, sponsor, span, status)."""
    _save(goal, fields_apply(goal, fields, _GOAL_FIELDS))
    return goal


@transaction.atomic
def data_product_create(
    *,
    name: str,
    domain: Domain,
    owner: User,
    slug: str = "",
    description: str = "",
    lifecycle: str = Lifecycle.PROPOSED,
    launched_on: date | None = None,
    sunset_on: date | None = None,
    goals: Sequence[BusinessGoal] = (),
) -> DataProduct:
    """Register a data product, `proposed` or already `active` (then launched today unless a date is given).

    Deprecation and retirement are governance's: they come from decisions and lifecycle moves.
    """
    if lifecycle not in (Lifecycle.PROPOSED, Lifecycle.ACTIVE):
        raise ValidationError({"lifecycle": "Register a product as proposed or active; retiring it is governance's."})
    if lifecycle == Lifecycle.ACTIVE and launched_on is None:
        launched_on = timezone.localdate()
    product = DataProduct(
        name=name,
        slug=_slug_or_error(slug, name),
        domain=domain,
        owner=owner,
        description=description,
        lifecycle=lifecycle,
        launched_on=launched_on,
        sunset_on=sunset_on,
    )
    _save(product, [("goals", list(goals))])
    return product


@transaction.atomic
def data_product_update(*, data_product: DataProduct, lifecycle: str | None = None, **fields: Any) -> DataProduct:
    """Change a product's fields; a new `lifecycle` moves it through `data_product_set_lifecycle`."""
    product = DataProduct.objects.select_for_update().get(pk=data_product.pk)
    _save(product, fields_apply(product, fields, _PRODUCT_FIELDS))
    if lifecycle is not None and lifecycle != product.lifecycle:
        product = data_product_set_lifecycle(
            data_product=product, lifecycle=lifecycle, on=timezone.localdate(), sunset_on=fields.get("sunset_on")
        )
    return product


@transaction.atomic
def data_product_delete(*, data_product: DataProduct) -> None:
    """Delete a product registered by mistake: only a `proposed` one, so no evaluated history is lost."""
    product = DataProduct.objects.select_for_update().get(pk=data_product.pk)
    if product.lifecycle != Lifecycle.PROPOSED:
        raise ValidationError(
            {"lifecycle": f"Only a proposed product can be deleted; this one is {product.lifecycle}: retire it."}
        )
    product.delete()


_EDITABLE_DEBT_FIELDS = ("title", "why", "revisit_on")


@transaction.atomic
def debt_record(
    *, data_product: DataProduct, title: str, why: str, revisit_on: date, user: User | None
) -> ConsciousDebt:
    """Write down a conscious shortcut of a product, to be revisited on `revisit_on`."""
    debt = ConsciousDebt(data_product=data_product, title=title, why=why, revisit_on=revisit_on, created_by=user)
    debt.full_clean()
    debt.save()
    return debt


@transaction.atomic
def debt_update(*, debt: ConsciousDebt, **fields: Any) -> ConsciousDebt:
    """Change a debt's title, why or revisit date."""
    unknown = set(fields) - set(_EDITABLE_DEBT_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    for name, value in fields.items():
        setattr(debt, name, value)
    debt.full_clean()
    debt.save()
    return debt


@transaction.atomic
def debt_resolve(*, debt: ConsciousDebt, resolution: str, user: User | None) -> ConsciousDebt:
    """Close a debt (the shortcut was paid back or accepted for good), with what was done."""
    if not resolution.strip():
        raise ValidationError({"resolution": "Say how the shortcut was resolved."})
    if debt.resolved_at is not None:
        raise ValidationError({"resolution": "This debt is already resolved."})
    debt.resolution = resolution.strip()
    debt.resolved_at = timezone.now()
    debt.full_clean()
    debt.save(update_fields=["resolution", "resolved_at"])
    return debt


@transaction.atomic
def data_product_retire_now(*, data_product: DataProduct, on: date) -> DataProduct:
    """Confirm the retirement of a deprecated product on `on` (before or on its sunset date).

    The sunset date becomes `on` when it was later, so the product leaves the portfolio at once.
    """
    product = DataProduct.objects.select_for_update().get(pk=data_product.pk)
    if product.lifecycle != Lifecycle.DEPRECATED:
        raise ValidationError(
            {"lifecycle": f"Only a deprecated product can be retired from the board; this one is {product.lifecycle}."}
        )
    product.lifecycle = Lifecycle.RETIRED
    product.sunset_on = min(product.sunset_on or on, on)
    product.full_clean()
    product.save()
    return product
