"""Back-office pages of programmes: programmes, classes and the closure calendar (mounted
under /manage/; the closures sit with the settings, at /manage/settings/closures/)."""

from django.urls import path

from .views import classes, closures, programmes

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
    path("settings/closures/", closures.closure_list, name="closures"),
    path("settings/closures/new/", closures.closure_new, name="closure_new"),
    path("settings/closures/<int:closure_pk>/edit/", closures.closure_edit, name="closure_edit"),
]
