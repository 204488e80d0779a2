"""The portal's routes: ``urlpatterns`` are the parents' pages, mounted by ``config.urls``
under /portal/<company_slug>/ (namespace ``portal``); ``manage_urlpatterns`` are the
back-office pages the portal hosts (mounted under /manage/): the staff member's own calendar
feed and the owners' audit log."""

from django.urls import path

from .views import (
    account,
    audit,
    claims,
    feeds,
    home,
    makeups,
    notifications,
    offers,
    payments,
    reminders,
    slots,
    wallet,
)

app_name = "portal"

urlpatterns = [
    path("pay/", payments.pay, name="pay"),
    path("statement/", payments.statement, name="statement"),
    path("pay/test/<str:token>/", payments.pay_test, name="pay_test"),
    path("", home.home, name="home"),
    path("signup/", account.signup, name="signup"),
    path("join/", account.join, name="join"),
    path(
        "lessons/<int:enrolment_pk>/<int:session_pk>/cancel/",
        home.lesson_cancel,
        name="lesson_cancel",
    ),
    path(
        "lessons/<int:enrolment_pk>/<int:session_pk>/undo/",
        home.lesson_undo,
        name="lesson_cancel_undo",
    ),
    path("makeups/", makeups.makeup_search_view, name="makeup_search"),
    path(
        "makeups/book/<int:credit_pk>/<int:session_pk>/",
        makeups.makeup_confirm,
        name="makeup_confirm",
    ),
    path("makeups/<int:booking_pk>/", makeups.makeup_booked, name="makeup_booked"),
    path("makeups/<int:booking_pk>/cancel/", makeups.booking_cancel, name="makeup_cancel"),
    path("makeups/<int:booking_pk>/move/", makeups.booking_move, name="makeup_move"),
    path("makeups/slot/<str:token>/", slots.slot_link, name="slot_link"),
    path("cant-come/<str:token>/", reminders.cant_come, name="cant_come"),
    path("watches/", makeups.watch_start, name="watch_create"),
    path("watches/<int:watch_pk>/stop/", makeups.watch_stop, name="watch_stop"),
    path("watches/offer/<str:token>/", offers.watch_offer, name="watch_offer"),
    path("calendar/reset/", feeds.calendar_reset, name="calendar_reset"),
    path("absences/<int:attendance_pk>/claim/", claims.claim_create, name="claim_create"),
    path("credits/<int:credit_pk>/give/", wallet.credit_give, name="credit_give"),
    path("notifications/", notifications.notification_settings, name="notifications"),
]

manage_urlpatterns = [
    path("my-calendar/", feeds.my_calendar, name="my_calendar"),
    path("my-calendar/reset/", feeds.my_calendar_reset, name="my_calendar_reset"),
    path("audit/", audit.audit_log, name="audit_log"),
]
