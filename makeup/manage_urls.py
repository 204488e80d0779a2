"""The back office: /manage/… (namespace ``manage``). Each app adds its own pages here."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("switch/<int:company_id>/", views.switch_company, name="switch_company"),
    path("settings/", views.company_settings, name="settings"),
]

# Apps that add back-office pages, in navigation order; each has a ``manage_urls`` module.
MANAGE_APPS = ["programmes", "bookings", "credits", "franchise", "portal"]
for _app in MANAGE_APPS:
    try:
        module = __import__(f"{_app}.manage_urls", fromlist=["urlpatterns"])
    except ModuleNotFoundError as error:
        if error.name != f"{_app}.manage_urls":
            raise
        continue
    urlpatterns.append(path("", include(module.urlpatterns)))
