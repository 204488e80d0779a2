"""Credits issued, reminded or expired are announced to the listeners (the API's webhooks)
a batch at a time: a sweep may expire a hundred thousand credits at once, and PostgreSQL
takes at most 65,535 values in one statement."""

from datetime import UTC, datetime

import pytest

from credits import hooks

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


def test_listeners_hear_every_credit_in_batches(monkeypatch):
    heard = []
    monkeypatch.setattr(hooks, "_event_listeners", [lambda **kw: heard.append(kw)])
    ids = list(range(1, 2 * hooks.ANNOUNCE_BATCH + 2))
    hooks.credits_announce(event="expired", credit_ids=ids, now=NOW)
    assert [len(h["credit_ids"]) for h in heard] == [hooks.ANNOUNCE_BATCH] * 2 + [1]
    assert [i for h in heard for i in h["credit_ids"]] == ids
    assert {h["event"] for h in heard} == {"expired"} and {h["now"] for h in heard} == {NOW}


def test_nothing_to_announce_calls_no_listener(monkeypatch):
    heard = []
    monkeypatch.setattr(hooks, "_event_listeners", [lambda **kw: heard.append(kw)])
    hooks.credits_announce(event="issued", credit_ids=[], now=NOW)
    assert heard == []


@pytest.mark.django_db
@pytest.mark.postgres
def test_seventy_thousand_expired_credits_reach_the_webhooks_on_postgresql():
    """The API's listener reads the credits by id: more than PostgreSQL's 65,535 values."""
    assert hooks.has_event_listeners()
    hooks.credits_announce(event="expired", credit_ids=list(range(1, 70_001)), now=NOW)


@pytest.mark.django_db
def test_nobody_listening_costs_one_small_query_per_batch(django_assert_num_queries):
    """No company has a webhook endpoint for expired credits: the API's listener learns it
    from the endpoints alone and reads no credit (a sweep's hundred thousand included)."""
    with django_assert_num_queries(1):
        hooks.credits_announce(event="expired", credit_ids=[1, 2, 3], now=NOW)
