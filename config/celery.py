"""The Celery app. Tasks are found in each app's ``tasks.py``.

Tasks take ids, never model instances, and re-enter the company scope themselves
(:class:`makeup.taskbase.CompanyTask`). Services never send them directly: they write them to the
transactional outbox (:mod:`makeup.outbox`), so a task never sees data that was rolled back
and a broker that is down loses nothing.
"""

import logging
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)

app = Celery("makeup")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
