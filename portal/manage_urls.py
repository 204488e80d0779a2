"""Back-office pages of the portal app (mounted under /manage/): the staff member's own
calendar feed, and the owners' audit log."""

from django.urls import path

from . import audit_views, feed_views

urlpatterns = [
    path("my-calendar/", feed_views.my_calendar, name="my_calendar"),
    path("my-calendar/reset/", feed_views.my_calendar_reset, name="my_calendar_reset"),
    path("audit/", audit_views.audit_log, name="audit_log"),
]
