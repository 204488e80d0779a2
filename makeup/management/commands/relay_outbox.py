"""Hand due outbox messages to Celery (makeup.outbox) — what beat does every 30 seconds, for
a deployment without beat, a cron job, or an operator after an outage.

    manage.py relay_outbox              # once; prints how many were handed over
    manage.py relay_outbox --loop 15    # every 15 seconds until stopped
    manage.py relay_outbox --status     # pending / overdue / failing / done counts
"""

import time

from django.core.management.base import BaseCommand

from makeup.outbox import outbox_status, relay_due


class Command(BaseCommand):
    help = "Hand due outbox messages (e-mails) to Celery; --status shows the counts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", type=float, metavar="SECONDS", help="Repeat every SECONDS until stopped."
        )
        parser.add_argument("--status", action="store_true", help="Only print the counts.")

    def handle(self, *args, loop, status, **options):
        if status:
            for name, count in outbox_status().items():
                self.stdout.write(f"{name}: {count}")
            return
        while True:
            self.stdout.write(f"handed over: {relay_due()}")
            if not loop:
                return
            time.sleep(loop)
