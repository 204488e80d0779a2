from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MakeupConfig(AppConfig):
    name = "makeup"
    verbose_name = _("Make-up sessions (core)")

    def ready(self) -> None:
        from . import datacache

        datacache.connect()
