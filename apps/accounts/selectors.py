"""Account reads."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from apps.accounts.models import User


def user_list_by_reference(*, references: Collection[str]) -> QuerySet[User]:
    """Users whose username is one of `references`, or whose e-mail is (ignoring case); one query."""
    lowered = {reference.lower() for reference in references}
    return (
        User.objects.annotate(email_lower=Lower("email"))
        .filter(Q(username__in=list(references)) | Q(email_lower__in=lowered))
        .order_by("pk")
    )
