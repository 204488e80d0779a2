"""WSGI entry point (gunicorn config.wsgi).

Once the project is loaded (settings, apps, models, and the URLs with every view), those
objects live as long as the worker: ``gc.freeze()`` takes them out of the cyclic garbage
collector's view, so the collections that requests set off scan only what requests made.
Without it a full collection walked the whole project about once per portal home page
(~2.5 ms of ~30 ms; docs/performance.md)."""

import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()
import_module(settings.ROOT_URLCONF)  # every view module now, not on the first request
gc.collect()
gc.freeze()
