"""Back-office pages of credits (mounted under /manage/)."""

from django.urls import path

from .views import claims, credits, policies, reports

urlpatterns = [
    path("programmes/<int:programme_pk>/policy/", policies.policy_edit, name="policy_edit"),
    path("credits/", credits.credit_list, name="credit_list"),
    path("reports/", reports.reports, name="reports"),
    path("reports/instructor-pay/", reports.pay_report, name="pay_report"),
    path("reports/makeup-liability/", reports.liability_report, name="liability_report"),
    path(
        "credits/decisions/<int:decision_pk>/reviewed/",
        credits.decision_review,
        name="decision_review",
    ),
    path("enrolments/<int:enrolment_pk>/credits/new/", credits.credit_add, name="credit_add"),
    path("credits/<int:credit_pk>/give/", credits.credit_give, name="credit_give"),
    # "I cancelled in time" claims (BEY-6)
    path("claims/", claims.claim_list, name="claim_list"),
    path("claims/<int:claim_pk>/", claims.claim_detail, name="claim_detail"),
]
