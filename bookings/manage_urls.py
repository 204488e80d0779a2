"""Back-office pages of bookings: families (family_urls), sessions, attendance, enrolments."""

from django.urls import include, path

from . import session_views as v

urlpatterns = [
    path("", include("bookings.family_urls")),
    path("sessions/", v.calendar, name="session_calendar"),
    path("sessions/<int:session_pk>/", v.session_detail, name="session_detail"),
    path(
        "sessions/<int:session_pk>/attendance/<int:enrolment_pk>/",
        v.attendance_set,
        name="attendance_set",
    ),
    path(
        "sessions/<int:session_pk>/makeups/<int:booking_pk>/attendance/",
        v.makeup_attendance_set,
        name="makeup_attendance_set",
    ),
    path(
        "sessions/<int:session_pk>/all-present/", v.session_all_present, name="session_all_present"
    ),
    path("sessions/<int:session_pk>/cancel/", v.session_cancel_view, name="session_cancel"),
    path("classes/<int:class_pk>/", v.class_detail, name="class_detail"),
    path("classes/<int:class_pk>/enrol/", v.class_enrol, name="class_enrol"),
    path(
        "classes/<int:class_pk>/sessions/new/",
        v.session_create_one_off_view,
        name="session_create_one_off",
    ),
    path("students/<int:student_pk>/enrol/", v.enrol_student, name="enrol_student"),
    path(
        "enrolments/<int:enrolment_pk>/withdraw/",
        v.enrolment_withdraw_view,
        name="enrolment_withdraw",
    ),
]
