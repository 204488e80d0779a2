"""Back-office pages of the franchise (mounted under /manage/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("franchise/", views.partners, name="franchise"),
    path(
        "franchise/links/<int:link_pk>/approve/",
        views.link_approve_view,
        name="franchise_link_approve",
    ),
    path(
        "franchise/links/<int:link_pk>/decline/",
        views.link_decline_view,
        name="franchise_link_decline",
    ),
    path("franchise/links/<int:link_pk>/end/", views.link_end_view, name="franchise_link_end"),
    path(
        "franchise/partners/<int:partner_id>/restrictions/",
        views.restrictions,
        name="franchise_restrictions",
    ),
    path("franchise/invitations/<str:token>/", views.invitation, name="franchise_invitation"),
    path("franchise/report/", views.report, name="franchise_report"),
]
