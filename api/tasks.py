"""Webhook deliveries (API-4), thin over :mod:`api.services.webhooks`: one attempt per task,
handed over through the outbox, and the beat sweep that hands over the retries."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from makeup.taskbase import CompanyTask

from .services.webhooks import webhook_deliver, webhook_deliveries_prune, webhooks_send_due


@shared_task(base=CompanyTask, bind=True, outbox_own_transactions=True)
def deliver_webhook(self, company, delivery_id: int) -> str:
    """Post one delivery (outside the outbox's transaction: no lock is held while the
    receiver answers; the attempt is claimed by a conditional update instead)."""
    return webhook_deliver(delivery_id=delivery_id, now=timezone.now())


@shared_task(acks_late=True, ignore_result=True)
def send_due_webhooks() -> int:
    """Beat, every minute: the deliveries whose wait is over."""
    return webhooks_send_due(now=timezone.now())


@shared_task(acks_late=True, ignore_result=True)
def prune_webhook_deliveries() -> int:
    """Beat, nightly: sent and failed messages older than ``WEBHOOK_KEEP_DAYS``."""
    return webhook_deliveries_prune(now=timezone.now(), keep_days=settings.WEBHOOK_KEEP_DAYS)
