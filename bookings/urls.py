"""Back-office pages of bookings (mounted under /manage/): families, parents and children,
the CSV import; sessions, attendance, classes and enrolments. The invitation a parent accepts
is mounted under /accounts/ by ``config/urls.py`` (``views.invitations``)."""

from django.urls import path

from .views import classes, families, imports, search, sessions

urlpatterns = [
    path("search/", search.search, name="search"),
    path("families/", families.family_list, name="family_list"),
    path("families/new/", families.family_create_view, name="family_create"),
    path("families/import/", imports.family_import_view, name="family_import"),
    path("families/import/sample.csv", imports.family_import_sample, name="family_import_sample"),
    path(
        "families/import/<int:import_pk>/",
        imports.family_import_detail,
        name="family_import_detail",
    ),
    path(
        "families/import/<int:import_pk>/confirm/",
        imports.family_import_confirm_view,
        name="family_import_confirm",
    ),
    path("families/<int:family_pk>/", families.family_detail, name="family_detail"),
    path("families/<int:family_pk>/edit/", families.family_edit, name="family_edit"),
    path(
        "families/<int:family_pk>/children/new/",
        families.student_create_view,
        name="student_create",
    ),
    path(
        "families/<int:family_pk>/parents/new/",
        families.guardian_create_view,
        name="guardian_create",
    ),
    path(
        "families/<int:family_pk>/packages/new/",
        families.package_create_view,
        name="package_create",
    ),
    path(
        "families/<int:family_pk>/payments/new/",
        families.payment_create_view,
        name="payment_create",
    ),
    path("students/<int:student_pk>/edit/", families.student_edit, name="student_edit"),
    path("parents/<int:guardian_pk>/edit/", families.guardian_edit, name="guardian_edit"),
    path(
        "parents/<int:guardian_pk>/invite/",
        families.guardian_invite_view,
        name="guardian_invite",
    ),
    path("sessions/", sessions.calendar, name="session_calendar"),
    path("sessions/<int:session_pk>/", sessions.session_detail, name="session_detail"),
    path(
        "sessions/<int:session_pk>/attendance/<int:enrolment_pk>/",
        sessions.attendance_set,
        name="attendance_set",
    ),
    path(
        "sessions/<int:session_pk>/makeups/<int:booking_pk>/attendance/",
        sessions.makeup_attendance_set,
        name="makeup_attendance_set",
    ),
    path(
        "sessions/<int:session_pk>/all-present/",
        sessions.session_all_present,
        name="session_all_present",
    ),
    path("sessions/<int:session_pk>/cancel/", sessions.session_cancel_view, name="session_cancel"),
    path("classes/<int:class_pk>/", classes.class_detail, name="class_detail"),
    path("classes/<int:class_pk>/enrol/", classes.class_enrol, name="class_enrol"),
    path(
        "classes/<int:class_pk>/sessions/new/",
        classes.session_create_one_off_view,
        name="session_create_one_off",
    ),
    path("students/<int:student_pk>/enrol/", classes.enrol_student, name="enrol_student"),
    path(
        "enrolments/<int:enrolment_pk>/withdraw/",
        classes.enrolment_withdraw_view,
        name="enrolment_withdraw",
    ),
]
