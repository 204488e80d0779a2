"""The Redis cache keeps one client per connection pool (makeup.cache): the same answers as
Django's own, without setting a client up on every call."""

import os

import pytest

from makeup.cache import ResilientRedisCache, SharedClientRedisCacheClient

pytestmark = pytest.mark.redis


@pytest.fixture
def cache():
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.fail("set REDIS_URL: the Redis tests run against a real Redis")
    cache = ResilientRedisCache(url, {"KEY_PREFIX": "test-shared-client"})
    yield cache
    cache.delete_many(["one", "two", "n"])


def test_one_client_serves_every_call_with_the_same_answers(cache):
    assert isinstance(cache._cache, SharedClientRedisCacheClient)
    client = cache._cache.get_client()
    cache.set("one", {"a": 1})
    assert cache.get("one") == {"a": 1}
    assert cache.get_many(["one", "two"]) == {"one": {"a": 1}}
    cache.set("n", 1)
    assert cache.incr("n") == 2
    assert cache._cache.get_client(write=True) is client
    assert cache._cache.get_client() is client
