"""The roles of meshvalue: defined in `apps.core.roles` (the access policies at the bottom grant by role)."""

from apps.core.roles import ROLE_LABELS, AnyUser, Role, has_role, is_admin, user_roles

__all__ = ["ROLE_LABELS", "AnyUser", "Role", "has_role", "is_admin", "user_roles"]
