from importlib import import_module

from django.core.management.base import BaseCommand
from django.db import transaction

from makeup.demo import DEMO_PASSWORD, DemoContext

# Each app's demo.seed(ctx), in dependency order; an app without demo data is skipped.
DEMO_APPS = ["makeup", "programmes", "bookings", "credits", "franchise"]


class Command(BaseCommand):
    help = "Create (or complete) the demo companies, logins and data. Safe to run again."

    def handle(self, *args, **options) -> None:
        ctx = DemoContext()
        with transaction.atomic():
            for app in DEMO_APPS:
                try:
                    module = import_module(f"{app}.demo")
                except ModuleNotFoundError as error:
                    if error.name != f"{app}.demo":
                        raise
                    continue
                module.seed(ctx)
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Logins (password for all: {DEMO_PASSWORD}):")
        )
        for email, label in ctx.logins:
            self.stdout.write(f"  {email:<28} {label}")
