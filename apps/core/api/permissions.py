"""The one permission class of the API: it reads the view's `access` policy (apps.core.api.access)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from apps.core.api import access


class RolePermission(BasePermission):
    """Grants by role from `view.access`; rows outside the grant's scope are refused with 403.

    Anonymous users get 401. A method the view does not offer (no action) is let through so
    that DRF answers 405 rather than 403.
    """

    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        action = getattr(view, "action", None)
        if action is None or action == "metadata":
            return True
        policy: access.AccessPolicy = view.access
        safe = request.method in SAFE_METHODS
        return any(access.may(user, granted) for granted in policy.for_object(action, safe=safe))

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        policy: access.AccessPolicy = view.access
        grants = policy.for_object(getattr(view, "action", None), safe=False)
        model = type(obj)
        return any(not access.forbidden_ids(model, [obj.pk], request.user, granted) for granted in grants)
