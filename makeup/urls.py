from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from bookings.family_views import InviteAcceptView
from portal import feed_views
from portal import views as portal_views

from . import manage_urls, views

account_patterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("landing/", portal_views.landing, name="landing"),
    path("company-signup/", views.company_signup, name="company_signup"),
    path("language/", views.language_set, name="language_set"),
    path("confirm/resend/", portal_views.resend_confirmation, name="resend_confirmation"),
    path("confirm/<str:token>/", views.confirm_email, name="confirm_email"),
    path("password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("invite/<uidb64>/<token>/", InviteAcceptView.as_view(), name="invite_accept"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="landing", permanent=False), name="home"),
    path("accounts/", include(account_patterns)),
    path("manage/", include((manage_urls.urlpatterns, "manage"))),
    path("portal/<slug:company_slug>/", include("portal.urls")),
    path("admin/", admin.site.urls),
    path("healthz/", views.health, name="health"),
    path("calendar/<str:token>.ics", feed_views.calendar_feed, name="calendar_feed"),
    path("payments/stripe/webhook/", portal_views.stripe_webhook, name="stripe_webhook"),
]
