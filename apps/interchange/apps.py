from django.apps import AppConfig


class InterchangeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.interchange"
    verbose_name = "Catalog files (Bitol ODPS, ODPS 4, DataHub)"
