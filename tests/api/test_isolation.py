"""API-5: a key reaches only its own company — every API operation, read from the OpenAPI
schema (so an endpoint added later is crawled without touching this file), answers 404 to
another company's ids, in the path or in the body, as the pages do (TEN-1); lists never show
another company's rows; each key is rate-limited (429 with Retry-After)."""

import re
from datetime import date

import pytest
from django_scopes import scope

from makeups.services import makeup_book
from tests import factories as f

from .conftest import NOW, ApiClient, make_key
from .test_writes import _credit

pytestmark = pytest.mark.django_db


def _objects(company, owner) -> dict:
    """One coherent set of ``company``'s objects for every id an API operation takes."""
    programme = f.ProgrammeFactory(company=company)
    host = f.ClassFactory(programme=programme, min_age_months=None, max_age_months=None)
    session = f.SessionFactory(klass=host)
    enrolment = f.EnrolmentFactory(klass=host, student__date_of_birth=date(2019, 1, 1))
    f.AttendanceFactory(enrolment=enrolment, session=session, state="present")
    credit = _credit(f.EnrolmentFactory(klass=f.ClassFactory(programme=programme)))
    booked_credit = _credit(f.EnrolmentFactory(klass=f.ClassFactory(programme=programme)))
    with scope(company=company):
        booking = makeup_book(
            credit=booked_credit, session=session, actor=owner, source="staff", now=NOW
        )
    return {
        "session_id": session.pk,
        "enrolment_id": enrolment.pk,
        "credit_id": credit.pk,
        "booking_id": booking.pk,
        "class_id": host.pk,
    }


def _operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def _body(schema: dict, operation: dict, ids: dict) -> dict | None:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    ref = content["schema"]["$ref"].rsplit("/", 1)[-1]
    fields = schema["components"]["schemas"][ref]["properties"]
    body = {}
    for name in fields:
        if name.endswith("_id"):
            assert name in ids, f"the crawl can't fill {name} of {ref}: add it to _objects"
            body[name] = ids[name]
    if "state" in fields:
        body["state"] = "present"
    return body


def _call(api: ApiClient, method: str, path: str, body: dict | None, query: dict):
    if method == "get":
        return api.get(path, **query)
    return getattr(api, method)(path, body)


def test_api_5_every_api_operation_answers_404_to_another_companys_ids(world, client):
    schema = client.get("/api/v1/openapi.json").json()
    theirs = _objects(world.company_a, world.owner_a)
    ours = _objects(world.company_b, world.owner_b)
    outsider = ApiClient(make_key(world.company_b, world.owner_b)[1])
    insider = ApiClient(make_key(world.company_a, world.owner_a)[1])
    crawled = []
    for path, method, operation in _operations(schema):
        params = re.findall(r"{(\w+)}", path)
        if not params and not operation.get("requestBody"):
            continue  # a plain list: checked below
        url = path.format(**{name: theirs[name] for name in params})
        body = _body(schema, operation, theirs)
        response = _call(outsider, method, url, body, {})
        assert response.status_code == 404, (method, url, body, response.status_code)
        assert response.json()["code"] == "not_found"
        # Mixed: the outsider's own object with another company's id still answers 404.
        if body and len([k for k in body if k.endswith("_id")]) > 1:
            for name in [k for k in body if k.endswith("_id")]:
                mixed = {**_body(schema, operation, ours), name: theirs[name]}
                own_url = path.format(**{n: ours[n] for n in params})
                answer = _call(outsider, method, own_url, mixed, {})
                assert answer.status_code == 404, (method, path, name, answer.status_code)
        # The same request with the company's own key finds its objects: the 404 above is
        # tenancy, not a crawl that builds broken requests.
        own = _call(insider, method, url, body, {})
        assert own.status_code != 404, (method, url, own.content)
        crawled.append((method, path))
    assert ("post", "/api/v1/makeups/{booking_id}/move") in crawled
    assert ("put", "/api/v1/attendance") in crawled
    assert len(crawled) >= 5


def test_api_5_lists_never_show_another_companys_rows(world, client):
    schema = client.get("/api/v1/openapi.json").json()
    theirs = _objects(world.company_a, world.owner_a)
    outsider = ApiClient(make_key(world.company_b, world.owner_b)[1])
    insider = ApiClient(make_key(world.company_a, world.owner_a)[1])
    lists = [
        (path, operation)
        for path, method, operation in _operations(schema)
        if method == "get" and "{" not in path and "Page" in str(operation["responses"])
    ]
    assert len(lists) == 9
    for path, operation in lists:
        filters = {
            p["name"]: theirs[p["name"]]
            for p in operation.get("parameters", [])
            if p["in"] == "query" and p["name"] in theirs
        }
        assert outsider.get(path).json()["results"] == [], path
        assert outsider.get(path, **filters).json()["results"] == [], (path, filters)
        assert insider.get(path).json()["results"], path


def test_api_5_each_key_is_rate_limited_with_429_and_retry_after(world, settings):
    settings.API_RATE_LIMIT = 3
    settings.API_RATE_WINDOW_SECONDS = 60
    first = ApiClient(make_key(world.company_a, world.owner_a, name="One")[1])
    second = ApiClient(make_key(world.company_a, world.owner_a, name="Two")[1])
    for _ in range(3):
        assert first.get("/api/v1/programmes").status_code == 200
    refused = first.get("/api/v1/programmes")
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    # Per key: another key of the same company is not held back.
    assert second.get("/api/v1/programmes").status_code == 200


def test_api_5_the_limit_opens_again_in_the_next_window(world, settings, time_machine):
    settings.API_RATE_LIMIT = 1
    settings.API_RATE_WINDOW_SECONDS = 60
    api = ApiClient(make_key(world.company_a, world.owner_a)[1])
    time_machine.move_to(NOW.replace(second=10))
    assert api.get("/api/v1/programmes").status_code == 200
    refused = api.get("/api/v1/programmes")
    assert refused.status_code == 429 and refused["Retry-After"] in {"49", "50"}
    time_machine.move_to(NOW.replace(minute=1, second=0))
    assert api.get("/api/v1/programmes").status_code == 200
