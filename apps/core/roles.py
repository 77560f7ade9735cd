"""The roles of meshvalue, held as Django groups of the same names.

Infrastructure at the bottom, next to the access policies (`apps.core.api.access`) that grant by
role: it needs nothing but Django's auth models. `apps.accounts.roles` re-exports it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeAlias

from django.contrib.auth.models import AbstractUser, AnonymousUser

# Who a request is from: a user of the project's user model (an AbstractUser) or nobody.
AnyUser: TypeAlias = AbstractUser | AnonymousUser


class Role(StrEnum):
    EXECUTIVE = "executive"
    PRODUCT_OWNER = "product_owner"
    GOVERNANCE_LEAD = "governance_lead"


ROLE_LABELS: dict[Role, str] = {
    Role.EXECUTIVE: "Executive",
    Role.PRODUCT_OWNER: "Product owner",
    Role.GOVERNANCE_LEAD: "Governance lead",
}


def user_roles(user: AnyUser) -> frozenset[Role]:
    """The roles a user holds. Staff and superusers hold every role.

    Group names are cached on the user object so a page asking several times costs one query.
    """
    if not user.is_authenticated:
        return frozenset()
    if user.is_staff or user.is_superuser:
        return frozenset(Role)
    cached = getattr(user, "_meshvalue_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(role for role in Role if role.value in names)
        user._meshvalue_roles = cached  # type: ignore[attr-defined]
    return cached


def has_role(user: AnyUser, *roles: Role) -> bool:
    """Whether the user holds any of `roles` (staff and superusers hold all)."""
    return bool(user_roles(user) & set(roles))


def is_admin(user: AnyUser) -> bool:
    return bool(user.is_authenticated and (user.is_staff or user.is_superuser))
