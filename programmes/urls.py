"""Back-office pages of programmes: programmes and classes (mounted under /manage/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("programmes/", views.programme_list, name="programme_list"),
    path("programmes/new/", views.programme_create_view, name="programme_create"),
    path("programmes/<int:programme_pk>/edit/", views.programme_edit, name="programme_edit"),
    path(
        "programmes/<int:programme_pk>/archive/",
        views.programme_archive,
        name="programme_archive",
    ),
    path("classes/", views.class_list, name="class_list"),
    path("classes/new/", views.class_create_view, name="class_create"),
    path("classes/<int:class_pk>/edit/", views.class_edit, name="class_edit"),
    path("classes/<int:class_pk>/archive/", views.class_archive, name="class_archive"),
]
