"""Back-office pages of makeups (mounted under /manage/)."""

from django.urls import path

from .views import closures, staff

urlpatterns = [
    # Make-ups for staff (MKP-10…MKP-12, CRD-3, BEY-2, WAL-2)
    path("credits/<int:credit_pk>/makeup/", staff.makeup_book_view, name="makeup_book"),
    path(
        "sessions/<int:session_pk>/makeup-guest/",
        staff.makeup_guest_new,
        name="makeup_guest_new",
    ),
    path("makeups/why-not/", staff.makeup_explain, name="makeup_explain"),
    path("makeups/<int:booking_pk>/cancel/", staff.makeup_cancel_view, name="makeup_cancel"),
    path("makeups/<int:booking_pk>/move/", staff.makeup_move_view, name="makeup_move"),
    path("watches/<int:watch_pk>/stop/", staff.watch_stop, name="watch_stop"),
    # Applying a closure (CLO-3, CLO-7); the closures list is programmes' page.
    path(
        "settings/closures/<int:closure_pk>/",
        closures.closure_detail,
        name="closure_detail",
    ),
    path(
        "settings/closures/<int:closure_pk>/apply/",
        closures.closure_apply_view,
        name="closure_apply",
    ),
    path(
        "settings/closures/<int:closure_pk>/progress/",
        closures.closure_run_progress,
        name="closure_run_progress",
    ),
    path(
        "settings/closures/<int:closure_pk>/remove/",
        closures.closure_remove_view,
        name="closure_remove",
    ),
]
