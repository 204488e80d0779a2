"""Logged-in pages and downloads are never kept by a browser cache or a proxy:
``Cache-Control: no-store, private`` on every response to a logged-in user (back office,
portal, CSV exports) and on every CSV download. The calendar feed keeps its own caching."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from makeup.middleware import NoStoreMiddleware

pytestmark = pytest.mark.django_db


def _no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


@pytest.mark.parametrize(
    "url",
    [
        "/manage/",
        "/manage/families/",
        "/manage/reports/instructor-pay/?first=2026-11-01&last=2026-11-30&format=csv",
        "/manage/reports/makeup-liability/?format=csv",
        "/manage/franchise/report/?year=2026&format=csv",
        "/manage/families/import/sample.csv",
    ],
)
def test_back_office_pages_and_csv_exports_are_not_stored(world, login, url):
    response = login(world.owner_a).get(url)
    assert response.status_code == 200, url
    assert _no_store(response), (url, response.get("Cache-Control"))


def test_csv_exports_say_so(world, login):
    response = login(world.owner_a).get("/manage/reports/makeup-liability/?format=csv")
    assert response["Content-Type"].startswith("text/csv") and _no_store(response)


@pytest.mark.parametrize("url", ["/portal/alpha/", "/portal/alpha/makeups/"])
def test_the_parents_logged_in_pages_are_not_stored(world, login, url):
    response = login(world.parent_a).get(url)
    assert response.status_code == 200
    assert _no_store(response)


def test_public_pages_may_still_be_cached(client, world):
    response = client.get("/portal/alpha/signup/")
    assert response.status_code == 200 and not _no_store(response)


def test_a_calendar_feed_keeps_its_own_caching():
    def view(request):
        response = HttpResponse("BEGIN:VCALENDAR\r\n", content_type="text/calendar")
        response["Content-Disposition"] = 'attachment; filename="lessons.ics"'
        response["Cache-Control"] = "private, max-age=300"
        return response

    response = NoStoreMiddleware(view)(RequestFactory().get("/calendar/x.ics"))
    assert response["Cache-Control"] == "private, max-age=300"


def test_a_csv_download_is_not_stored_even_without_a_login():
    def view(request):
        response = HttpResponse("a,b\n", content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="x.csv"'
        return response

    request = RequestFactory().get("/x.csv")
    assert _no_store(NoStoreMiddleware(view)(request))
