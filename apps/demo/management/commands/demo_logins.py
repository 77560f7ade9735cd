"""Print the demo logins, one per role."""

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.demo import demo_data

SHOWN = ("exec", "owner", "gov", "admin")
ROLE_NAMES = {"exec": "executive", "owner": "product owner", "gov": "governance lead", "admin": "admin"}


class Command(BaseCommand):
    help = "Print the username and password of each demo user."

    def handle(self, *args, **options) -> None:
        base_url = settings.MESHVALUE_BASE_URL
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"meshvalue demo on {base_url}/ - log in as:"))
        for user in demo_data.USERS:
            if user.username in SHOWN:
                role = ROLE_NAMES[user.username]
                self.stdout.write(f"  {role:<16} username {user.username:<6} password {user.password}")
        self.stdout.write(f"  API docs: {base_url}/api/docs/   admin: {base_url}/admin/")
        self.stdout.write("")
