from django.contrib.auth.models import AbstractUser
from django.db import models

from apps.core.audit import audit_trail


def user_display_name(*, first_name: str, last_name: str, username: str) -> str:
    """How pages name a user: the full name, else the username (also `str(user)`)."""
    return f"{first_name} {last_name}".strip() or username


class User(AbstractUser):
    """A person using meshvalue. Roles are Django groups (see apps.accounts.roles)."""

    team = models.CharField(
        max_length=150, blank=True, help_text="The team this person belongs to, as named in usage records."
    )
    # Roles are group memberships: tracked. The password hash and the last login are not.
    history = audit_trail(m2m_fields=["groups"], excluded_fields=["password", "last_login"])

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return user_display_name(first_name=self.first_name, last_name=self.last_name, username=self.username)
