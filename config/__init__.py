"""Project wiring only: settings, the root URLs, the Celery app, the WSGI/ASGI entry points.
No app imports this package; it imports the apps."""

from .celery import app as celery_app

__all__ = ["celery_app"]
