"""Back-office pages of the franchise (mounted under /manage/)."""

from django.urls import path

from .views import links, reports, restrictions

urlpatterns = [
    path("franchise/", links.partners, name="franchise"),
    path(
        "franchise/links/<int:link_pk>/approve/",
        links.link_approve_view,
        name="franchise_link_approve",
    ),
    path(
        "franchise/links/<int:link_pk>/decline/",
        links.link_decline_view,
        name="franchise_link_decline",
    ),
    path("franchise/links/<int:link_pk>/end/", links.link_end_view, name="franchise_link_end"),
    path(
        "franchise/partners/<int:partner_id>/restrictions/",
        restrictions.restrictions,
        name="franchise_restrictions",
    ),
    path("franchise/invitations/<str:token>/", links.invitation, name="franchise_invitation"),
    path("franchise/report/", reports.report, name="franchise_report"),
]
