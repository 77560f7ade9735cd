"""Who may open which page. Checks narrow querysets; a forbidden action answers 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from apps.accounts.models import User
from apps.accounts.roles import Role, has_role, is_admin
from apps.catalog.models import DataProduct

# Who reads the portfolio-wide figures: executives, and governance leads who act on them.
DASHBOARD_ROLES = (Role.EXECUTIVE, Role.GOVERNANCE_LEAD)


def role_required(*roles: Role) -> Callable:
    """Require a signed-in user holding one of `roles` (staff hold all); others get 403."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not has_role(request.user, *roles):
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def landing_url(user: User) -> str:
    """Where a user lands after signing in: the workspace of their main role."""
    if has_role(user, Role.EXECUTIVE):
        return reverse("home")
    if has_role(user, Role.GOVERNANCE_LEAD):
        return reverse("inbox")
    if has_role(user, Role.PRODUCT_OWNER):
        return reverse("workspace")
    return reverse("home")


def owned_products(user: User) -> QuerySet[DataProduct]:
    """The products a user may log outcomes and costs for: their own (admins: every product)."""
    if is_admin(user):
        return DataProduct.objects.all()
    return DataProduct.objects.filter(owner=user)
