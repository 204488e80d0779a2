from django.apps import AppConfig


class MakeupConfig(AppConfig):
    name = "makeup"
    verbose_name = "Make-up sessions (core)"

    def ready(self) -> None:
        from . import datacache

        datacache.connect()
