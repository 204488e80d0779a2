"""The root URLs: each app's pages mounted explicitly, in navigation order.

- ``/accounts/`` log-in, sign-up and password pages (the core, plus the portal's landing and
  "resend confirmation" and the family invitation acceptance);
- ``/manage/`` the back office (namespace ``manage``), each app's ``manage_urls``;
- ``/portal/<company>/`` the parents' portal; the calendar feeds; the payment webhook.
"""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

import bookings.manage_urls
import credits.manage_urls
import franchise.urls
import makeups.urls
import portal.manage_urls
import programmes.manage_urls
from bookings.family_views import InviteAcceptView
from makeup import urls as core
from portal import feed_views
from portal import views as portal_views

account_patterns = [
    # Before the core's: "confirm/resend/" would otherwise be read as a confirmation token.
    path("landing/", portal_views.landing, name="landing"),
    path("confirm/resend/", portal_views.resend_confirmation, name="resend_confirmation"),
    path("invite/<uidb64>/<token>/", InviteAcceptView.as_view(), name="invite_accept"),
    *core.account_patterns,
]

manage_patterns = [
    *core.manage_patterns,
    path("", include(programmes.manage_urls.urlpatterns)),
    path("", include(bookings.manage_urls.urlpatterns)),
    path("", include(credits.manage_urls.urlpatterns)),
    path("", include(makeups.urls.urlpatterns)),
    path("", include(franchise.urls.urlpatterns)),
    path("", include(portal.manage_urls.urlpatterns)),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="landing", permanent=False), name="home"),
    path("accounts/", include(account_patterns)),
    path("manage/", include((manage_patterns, "manage"))),
    path("portal/<slug:company_slug>/", include("portal.urls")),
    path("admin/", admin.site.urls),
    path("healthz/", core.health, name="health"),
    path("calendar/<str:token>.ics", feed_views.calendar_feed, name="calendar_feed"),
    path("payments/stripe/webhook/", portal_views.stripe_webhook, name="stripe_webhook"),
]
