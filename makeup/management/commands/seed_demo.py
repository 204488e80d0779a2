import logging
from importlib import import_module

from celery import current_app as celery_app
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from makeup.demo import DEMO_PASSWORD, DemoContext

# Each app's demo.seed(ctx), in dependency order; an app without demo data is skipped.
DEMO_APPS = ["makeup", "programmes", "bookings", "credits", "makeups", "franchise"]


class Command(BaseCommand):
    help = "Create (or complete) the demo companies, logins and data. Safe to run again."

    def handle(self, *args, **options) -> None:
        ctx = DemoContext()
        # Demo history must not e-mail the demo families: tasks run inline, into a dummy mailer.
        quiet = {"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}
        eager = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = True
        trace_log = logging.getLogger("celery.app.trace")
        level = trace_log.level
        trace_log.setLevel(logging.WARNING)
        try:
            with override_settings(MAILERS=quiet):
                self._seed(ctx)
        finally:
            celery_app.conf.task_always_eager = eager
            trace_log.setLevel(level)
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Logins (password for all: {DEMO_PASSWORD}):")
        )
        for email, label in ctx.logins:
            self.stdout.write(f"  {email:<28} {label}")

    def _seed(self, ctx: DemoContext) -> None:
        with transaction.atomic():
            for app in DEMO_APPS:
                try:
                    module = import_module(f"{app}.demo")
                except ModuleNotFoundError as error:
                    if error.name != f"{app}.demo":
                        raise
                    continue
                module.seed(ctx)
