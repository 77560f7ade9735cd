"""The roles of meshvalue: defined in `apps.core.roles` (the access policies at the bottom grant by role)."""

from django.db.models import Q, QuerySet

from apps.accounts.models import User
from apps.core.roles import ROLE_LABELS, AnyUser, Role, has_role, is_admin, user_roles

__all__ = [
    "ROLE_LABELS",
    "AnyUser",
    "Role",
    "has_role",
    "is_admin",
    "may_own_products",
    "product_owner_candidates",
    "user_roles",
]


def may_own_products(user: AnyUser) -> bool:
    """Whether `user` may be named the owner of a data product: product owners, staff and superusers."""
    return has_role(user, Role.PRODUCT_OWNER)


def product_owner_candidates() -> QuerySet[User]:
    """Active users who may own products (see `may_own_products`), by username."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(groups__name=Role.PRODUCT_OWNER) | Q(is_staff=True) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )
