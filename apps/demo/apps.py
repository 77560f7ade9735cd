from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo portfolio and its commands (`seed_demo`, `demo_history`, `demo_logins`).

    The top layer: it may use every app, and nothing imports it (the import contract in pyproject.toml).
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.demo"
    verbose_name = "Demo portfolio"
