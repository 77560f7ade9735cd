"""The signed-in user of a request."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.request import Request

from apps.accounts.models import User


def request_user(request: HttpRequest | Request) -> User:
    """The user of a request that login or a permission class already let through.

    Views and viewsets refuse anonymous requests before they get here; should one slip through,
    it is refused (403) rather than written as nobody.
    """
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user
