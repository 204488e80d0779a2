"""Back-office pages of bookings: families (family_urls), sessions, attendance, enrolments."""

from django.urls import include, path

urlpatterns = [
    path("", include("bookings.family_urls")),
]
