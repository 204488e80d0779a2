"""The core's own pages: logging in and out, sign-up and password pages (``account_patterns``,
mounted under ``/accounts/``), the back office's home, company switcher and settings
(``manage_patterns``, under ``/manage/``) and the health check. ``config/urls.py`` mounts
them beside the other apps' pages."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .notifications import views as notification_views

account_patterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("company-signup/", views.company_signup, name="company_signup"),
    path("language/", views.language_set, name="language_set"),
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
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]

manage_patterns = [
    path("", views.dashboard, name="dashboard"),
    path("switch/<int:company_id>/", views.switch_company, name="switch_company"),
    path("settings/", views.company_settings, name="settings"),
    path("settings/text-messages/", notification_views.sms_settings, name="sms_settings"),
    # DEBUG only (404 otherwise): the e-mails a developer's laptop sent.
    path("dev/mail/", views.dev_mail_list, name="dev_mail"),
    path("dev/mail/html/", views.dev_mail_html, name="dev_mail_html"),
]

health = views.health

#: Mounted under ``/notifications/``: no login (signed links and Twilio's signed webhooks).
notification_patterns = [
    path(
        "unsubscribe/<str:token>/",
        notification_views.unsubscribe_view,
        name="notification_unsubscribe",
    ),
    path(
        "twilio/<slug:company_slug>/status/",
        notification_views.twilio_status,
        name="notification_twilio_status",
    ),
    path(
        "twilio/<slug:company_slug>/inbound/",
        notification_views.twilio_inbound,
        name="notification_twilio_inbound",
    ),
]
