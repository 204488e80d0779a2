from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# Django 6.1's label of an empty choice, which Django's own Czech catalog leaves untranslated:
# our catalog (read before Django's) carries it.
gettext_noop("- Select an option -")


class MakeupConfig(AppConfig):
    name = "makeup"
    verbose_name = _("Make-up sessions (core)")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed
        from django.db.backends.signals import connection_created

        from . import checks, datacache
        from .auth import count_login_failure
        from .dbplans import size_the_prepared_cache

        datacache.connect()
        checks.register()
        user_login_failed.connect(count_login_failure, dispatch_uid="makeup.login_failure")
        connection_created.connect(size_the_prepared_cache, dispatch_uid="makeup.prepared_max")
