from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: load data, benchmarks and invariant checks (management commands only).
    It may import every app and no app imports it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "ops"
    verbose_name = "Operations"
