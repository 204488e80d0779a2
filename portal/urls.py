from django.urls import path

from . import claim_views, feed_views, reminder_views, slot_views, views

app_name = "portal"

urlpatterns = [
    path("pay/", views.pay, name="pay"),
    path("pay/test/<str:token>/", views.pay_test, name="pay_test"),
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("join/", views.join, name="join"),
    path(
        "lessons/<int:enrolment_pk>/<int:session_pk>/cancel/",
        views.lesson_cancel,
        name="lesson_cancel",
    ),
    path("makeups/", views.makeup_search_view, name="makeup_search"),
    path(
        "makeups/book/<int:credit_pk>/<int:session_pk>/",
        views.makeup_confirm,
        name="makeup_confirm",
    ),
    path("makeups/<int:booking_pk>/", views.makeup_booked, name="makeup_booked"),
    path("makeups/<int:booking_pk>/cancel/", views.booking_cancel, name="makeup_cancel"),
    path("makeups/slot/<str:token>/", slot_views.slot_link, name="slot_link"),
    path("cant-come/<str:token>/", reminder_views.cant_come, name="cant_come"),
    path("watches/", views.watch_start, name="watch_create"),
    path("watches/<int:watch_pk>/stop/", views.watch_stop, name="watch_stop"),
    path("calendar/reset/", feed_views.calendar_reset, name="calendar_reset"),
    path("absences/<int:attendance_pk>/claim/", claim_views.claim_create, name="claim_create"),
]
