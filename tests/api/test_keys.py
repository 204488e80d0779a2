"""API-1: keys made and revoked by owners, shown once, stored hashed, read-only or
read-write, last use shown; the OpenAPI schema is valid and documented."""

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django_scopes import scopes_disabled
from openapi_spec_validator import validate

from api.models import ApiKey
from api.services import api_key_create, api_key_revoke
from makeup.errors import DomainError
from makeup.models import Membership, Role
from tests import factories as f

from .conftest import NOW, ApiClient, make_key

pytestmark = pytest.mark.django_db


def test_api_1_owner_makes_a_key_shown_once_and_stored_hashed(world, login):
    client = login(world.owner_a)
    response = client.post("/manage/settings/api-keys/", {"name": "Accounting", "access": "read"})
    assert response.status_code == 200
    raw = response.context["new_key"]
    assert raw.startswith("mk_") and raw in response.content.decode()
    with scopes_disabled():
        key = ApiKey.objects.get(company=world.company_a)
    assert key.name == "Accounting" and key.access == "read"
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {key.prefix, key.key_hash, key.name}
    # Shown once: the list page afterwards has its prefix only.
    page = client.get("/manage/settings/api-keys/").content.decode()
    assert raw not in page and f"mk_{key.prefix}" in page
    assert ApiClient(raw).get("/api/v1/programmes").status_code == 200


def test_api_1_only_owners_manage_keys(world, login):
    assert login(world.admin_a).get("/manage/settings/api-keys/").status_code == 403
    with scopes_disabled(), pytest.raises(DomainError, match="Only an owner"):
        api_key_create(
            company=world.company_a, name="x", access="read", actor=world.admin_a, now=NOW
        )
    # The owner of another company can't make one for company A either.
    with scopes_disabled(), pytest.raises(DomainError):
        api_key_create(
            company=world.company_a, name="x", access="read", actor=world.owner_b, now=NOW
        )


def test_api_1_a_revoked_key_answers_401_from_the_next_request(world, login):
    key, raw = make_key(world.company_a, world.owner_a)
    api = ApiClient(raw)
    assert api.get("/api/v1/families").status_code == 200
    response = login(world.owner_a).post(f"/manage/settings/api-keys/{key.pk}/revoke/")
    assert response.status_code == 302
    answer = api.get("/api/v1/families")
    assert answer.status_code == 401 and answer.json()["code"] == "unauthorised"
    with scopes_disabled():
        key.refresh_from_db()
        assert key.revoked_at is not None and key.revoked_by == world.owner_a
        again = api_key_revoke(key=key, actor=world.owner_a, now=NOW + timedelta(days=1))
    assert again.revoked_at == key.revoked_at  # revoking twice changes nothing


def test_api_1_no_key_or_a_wrong_key_answers_401(world):
    _key, raw = make_key(world.company_a, world.owner_a)
    for client in (ApiClient(None), ApiClient(raw[:-2] + "xx"), ApiClient("mk_nonsense")):
        response = client.get("/api/v1/programmes")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"


def test_api_1_a_read_only_key_reads_and_may_not_write(world):
    _key, raw = make_key(world.company_a, world.owner_a, access=ApiKey.Access.READ)
    api = ApiClient(raw)
    assert api.get("/api/v1/credits").status_code == 200
    response = api.post("/api/v1/makeups", {"credit_id": 1, "session_id": 1})
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_api_1_a_key_stops_working_when_its_maker_is_no_longer_an_owner(world):
    _key, raw = make_key(world.company_a, world.owner_a)
    Membership.objects.filter(user=world.owner_a, company=world.company_a).update(role=Role.ADMIN)
    assert ApiClient(raw).get("/api/v1/programmes").status_code == 401


def test_api_1_last_use_is_recorded_and_shown(world, login):
    key, raw = make_key(world.company_a, world.owner_a)
    api = ApiClient(raw)
    page = login(world.owner_a).get("/manage/settings/api-keys/").content.decode()
    assert "never used" in page
    api.get("/api/v1/programmes")
    with scopes_disabled():
        key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    # Written at most once a minute: a request 30 s later leaves it, one 61 s later moves it.
    with time_machine.travel(first + timedelta(seconds=30), tick=False):
        api.get("/api/v1/programmes")
    with scopes_disabled():
        key.refresh_from_db()
    assert key.last_used_at == first
    with time_machine.travel(first + timedelta(seconds=61), tick=False):
        api.get("/api/v1/programmes")
    with scopes_disabled():
        key.refresh_from_db()
    assert key.last_used_at == first + timedelta(seconds=61)
    assert "last used" in login(world.owner_a).get("/manage/settings/api-keys/").content.decode()


def test_api_1_openapi_schema_is_generated_and_valid(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    validate(schema)  # raises on an invalid OpenAPI document
    paths = schema["paths"]
    for resource in (
        "programmes",
        "classes",
        "sessions",
        "families",
        "students",
        "enrolments",
        "attendance",
        "credits",
        "makeups",
    ):
        assert f"/api/v1/{resource}" in paths, resource
    assert "/api/v1/makeups/{booking_id}/move" in paths
    assert schema["components"]["securitySchemes"]


def test_api_1_documentation_page_is_served_with_local_assets(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page and "cdn" not in page.lower()


def test_api_1_keys_page_links_from_settings_for_owners_only(world, login):
    assert (
        "/manage/settings/api-keys/"
        in login(world.owner_a).get("/manage/settings/").content.decode()
    )
    assert (
        "/manage/settings/api-keys/"
        not in login(world.admin_a).get("/manage/settings/").content.decode()
    )


def test_api_1_an_unknown_company_key_page_is_404(world, login):
    key, _raw = make_key(world.company_b, world.owner_b)
    response = login(world.owner_a).post(f"/manage/settings/api-keys/{key.pk}/revoke/")
    assert response.status_code == 404
    with scopes_disabled():
        assert ApiKey.objects.get(pk=key.pk).revoked_at is None
    f.CompanyFactory()  # another company exists; nothing leaks to it either
