"""Shared set-up of the API tests: keys of both companies and a client that sends one."""

from datetime import UTC, datetime

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from api.models import ApiKey
from api.services import api_key_create

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # Sat 21 Nov, 11:00 in Sydney


class ApiClient:
    """A test client that sends ``Authorization: Bearer <key>`` and JSON bodies."""

    def __init__(self, raw: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw}"} if raw else {}

    def get(self, path: str, **params):
        return self.client.get(path, params, headers=self.headers)

    def _send(self, method: str, path: str, body: dict | None, headers: dict):
        return getattr(self.client, method)(
            path, body or {}, content_type="application/json", headers={**self.headers, **headers}
        )

    def post(self, path: str, body: dict | None = None, **headers):
        return self._send("post", path, body, headers)

    def put(self, path: str, body: dict | None = None, **headers):
        return self._send("put", path, body, headers)


def make_key(company, owner, *, access=ApiKey.Access.WRITE, name="Tool") -> tuple[ApiKey, str]:
    with scopes_disabled():
        return api_key_create(company=company, name=name, access=access, actor=owner, now=NOW)


@pytest.fixture
def api_a(world) -> ApiClient:
    """A read-and-write key of company A, made by its owner."""
    return ApiClient(make_key(world.company_a, world.owner_a)[1])


@pytest.fixture
def api_b(world) -> ApiClient:
    """A read-and-write key of company B (the outsider of company A's data)."""
    return ApiClient(make_key(world.company_b, world.owner_b)[1])
