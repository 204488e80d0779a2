"""Back-office pages of programmes: programmes and classes (mounted under /manage/)."""

from django.urls import path

from .views import classes, programmes

urlpatterns = [
    path("programmes/", programmes.programme_list, name="programme_list"),
    path("programmes/new/", programmes.programme_create_view, name="programme_create"),
    path("programmes/<int:programme_pk>/edit/", programmes.programme_edit, name="programme_edit"),
    path(
        "programmes/<int:programme_pk>/archive/",
        programmes.programme_archive,
        name="programme_archive",
    ),
    path("classes/", classes.class_list, name="class_list"),
    path("classes/new/", classes.class_create_view, name="class_create"),
    path("classes/<int:class_pk>/edit/", classes.class_edit, name="class_edit"),
    path("classes/<int:class_pk>/archive/", classes.class_archive, name="class_archive"),
]
