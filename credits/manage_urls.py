"""Back-office pages of credits (mounted under /manage/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("programmes/<int:programme_pk>/policy/", views.policy_edit, name="policy_edit"),
    path("credits/", views.credit_list, name="credit_list"),
    path(
        "credits/decisions/<int:decision_pk>/reviewed/",
        views.decision_review,
        name="decision_review",
    ),
    path("enrolments/<int:enrolment_pk>/credits/new/", views.credit_add, name="credit_add"),
]
