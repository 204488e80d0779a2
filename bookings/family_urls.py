"""Families, parents and students in the back office (mounted under /manage/)."""

from django.urls import path

from . import family_views as v

urlpatterns = [
    path("families/", v.family_list, name="family_list"),
    path("families/new/", v.family_create_view, name="family_create"),
    path("families/import/", v.family_import_view, name="family_import"),
    path("families/import/sample.csv", v.family_import_sample, name="family_import_sample"),
    path("families/import/<int:import_pk>/", v.family_import_detail, name="family_import_detail"),
    path(
        "families/import/<int:import_pk>/confirm/",
        v.family_import_confirm_view,
        name="family_import_confirm",
    ),
    path("families/<int:family_pk>/", v.family_detail, name="family_detail"),
    path("families/<int:family_pk>/edit/", v.family_edit, name="family_edit"),
    path("families/<int:family_pk>/children/new/", v.student_create_view, name="student_create"),
    path("families/<int:family_pk>/parents/new/", v.guardian_create_view, name="guardian_create"),
    path("families/<int:family_pk>/packages/new/", v.package_create_view, name="package_create"),
    path("families/<int:family_pk>/payments/new/", v.payment_create_view, name="payment_create"),
    path("students/<int:student_pk>/edit/", v.student_edit, name="student_edit"),
    path("parents/<int:guardian_pk>/edit/", v.guardian_edit, name="guardian_edit"),
    path("parents/<int:guardian_pk>/invite/", v.guardian_invite_view, name="guardian_invite"),
]
