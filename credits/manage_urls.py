"""Back-office pages of credits (mounted under /manage/)."""

from django.urls import path

from . import claim_views, report_views, views

urlpatterns = [
    path("programmes/<int:programme_pk>/policy/", views.policy_edit, name="policy_edit"),
    path("credits/", views.credit_list, name="credit_list"),
    path("reports/", report_views.reports, name="reports"),
    path("reports/instructor-pay/", report_views.pay_report, name="pay_report"),
    path("reports/makeup-liability/", report_views.liability_report, name="liability_report"),
    path(
        "credits/decisions/<int:decision_pk>/reviewed/",
        views.decision_review,
        name="decision_review",
    ),
    path("enrolments/<int:enrolment_pk>/credits/new/", views.credit_add, name="credit_add"),
    # "I cancelled in time" claims (BEY-6)
    path("claims/", claim_views.claim_list, name="claim_list"),
    path("claims/<int:claim_pk>/", claim_views.claim_detail, name="claim_detail"),
]
