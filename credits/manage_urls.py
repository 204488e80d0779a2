"""Back-office pages of credits (mounted under /manage/)."""

from django.urls import path

from . import claim_views, makeup_views, report_views, views

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
    # Make-ups for staff (MKP-10…MKP-12, CRD-3, BEY-2)
    path("credits/<int:credit_pk>/makeup/", makeup_views.makeup_book_view, name="makeup_book"),
    path(
        "sessions/<int:session_pk>/makeup-guest/",
        makeup_views.makeup_guest_new,
        name="makeup_guest_new",
    ),
    path("makeups/why-not/", makeup_views.makeup_explain, name="makeup_explain"),
    path("makeups/<int:booking_pk>/cancel/", makeup_views.makeup_cancel_view, name="makeup_cancel"),
    path("watches/<int:watch_pk>/stop/", makeup_views.watch_stop, name="watch_stop"),
    # "I cancelled in time" claims (BEY-6)
    path("claims/", claim_views.claim_list, name="claim_list"),
    path("claims/<int:claim_pk>/", claim_views.claim_detail, name="claim_detail"),
]
