from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person using meshvalue. Roles are Django groups (see apps.accounts.roles)."""

    team = models.CharField(
        max_length=150, blank=True, help_text="The team this person belongs to, as named in usage records."
    )

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username
