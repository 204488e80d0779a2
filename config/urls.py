"""The root URLs: each app's pages mounted explicitly, in navigation order.

- ``/accounts/`` log-in, sign-up and password pages (the core, plus the portal's landing and
  "resend confirmation" and the family invitation acceptance);
- ``/manage/`` the back office (namespace ``manage``): each app's ``urls.urlpatterns`` (the
  portal's back-office pages are its ``urls.manage_urlpatterns``);
- ``/notifications/`` one-click unsubscribe links and Twilio's webhooks;
- ``/portal/<company>/`` the parents' portal; the calendar feeds; the payment webhook;
- ``/api/v1/`` the JSON API (``api.urls.api_urlpatterns``, its docs at ``/api/v1/docs/``).
"""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

import api.urls
import bookings.urls
import credits.urls
import franchise.urls
import makeups.urls
import portal.urls
import programmes.urls
from bookings.views.invitations import InviteAcceptView
from makeup import urls as core
from portal.views import account as portal_account
from portal.views import feeds as portal_feeds
from portal.views import payments as portal_payments

account_patterns = [
    # Before the core's: "confirm/resend/" would otherwise be read as a confirmation token.
    path("landing/", portal_account.landing, name="landing"),
    path("confirm/resend/", portal_account.resend_confirmation, name="resend_confirmation"),
    path("invite/<uidb64>/<token>/", InviteAcceptView.as_view(), name="invite_accept"),
    *core.account_patterns,
]

manage_patterns = [
    *core.manage_patterns,
    path("", include(programmes.urls.urlpatterns)),
    path("", include(bookings.urls.urlpatterns)),
    path("", include(credits.urls.urlpatterns)),
    path("", include(makeups.urls.urlpatterns)),
    path("", include(franchise.urls.urlpatterns)),
    path("", include(portal.urls.manage_urlpatterns)),
    path("", include(api.urls.urlpatterns)),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="landing", permanent=False), name="home"),
    path("accounts/", include(account_patterns)),
    path("notifications/", include(core.notification_patterns)),
    path("manage/", include((manage_patterns, "manage"))),
    path("portal/<slug:company_slug>/", include("portal.urls")),
    path("api/v1/", include(api.urls.api_urlpatterns, namespace="api")),
    path("admin/", admin.site.urls),
    path("healthz/", core.health, name="health"),
    path("calendar/<str:token>.ics", portal_feeds.calendar_feed, name="calendar_feed"),
    path("payments/stripe/webhook/", portal_payments.stripe_webhook, name="stripe_webhook"),
]
