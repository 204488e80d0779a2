"""Caching pages derived from a company's data, invalidated by a per-company data version.

Every save or delete of a tenant row (programmes, bookings, credits, franchise, company
settings) gives its company a new data version when its transaction commits (until then
other readers still see the old rows, so what they cache is still right). A cached
fragment is stored with the versions of every company it was computed from and the current
minute, and served only while both still hold, so:

* any write that could change what the page shows makes the old entry stale;
* rules that depend on the clock alone (a session starting, a credit expiring, the 4-day
  rule opening a class) are re-evaluated at least once a minute;
* nothing relies on the cache to be right: bookings re-check every rule under the session
  lock, so a stale list can at worst offer a place that the booking then refuses politely.

With Redis (production) the versions are shared by every web process and worker; on a
laptop the per-process memory cache still expires entries within the minute.

Writes that bypass model signals (``QuerySet.update()``, ``bulk_create()``) call
:func:`data_changed` themselves.

A busy hour would retire every fragment of a company every few seconds: staff mark attendance
as lessons run. A lesson that has started is never offered again, so marking it concerns only
the student's own family (the credit it may bring). A service says so
(:func:`narrow_writes`): inside, those writes retire only the fragments that name the family
among their dependencies (:func:`dep` keys, given with the fragment and read with it in the
same cache call). Anything else written meanwhile still retires the company's fragments.
"""

import hashlib
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from .models import Company

TRACKED_APPS = {"programmes", "bookings", "credits", "franchise"}
FRAGMENT_TTL = 120  # seconds; the minute in the key retires entries sooner anyway


def _prefix() -> str:
    return getattr(settings, "DATA_CACHE_PREFIX", "dc2")


def _version_key(company_id: int) -> str:
    return f"{_prefix()}:dv:{company_id}"


def _bump(company_ids: Iterable[int]) -> None:
    cache.set_many({_version_key(pk): uuid.uuid4().hex[:12] for pk in company_ids}, None)


def dep(kind: str, pk: int) -> str:
    """A finer dependency than a company: ``dep("family", 3)``."""
    return f"{kind}:{pk}"


def _dep_key(name: str) -> str:
    return f"{_prefix()}:dv:{name}"


def _bump_deps(names: Iterable[str]) -> None:
    cache.set_many({_dep_key(name): uuid.uuid4().hex[:12] for name in names}, None)


class _AfterCommit:
    """The companies and finer dependencies to bump when the current transaction commits."""

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.deps: set[str] = set()

    def __call__(self) -> None:
        _bump(self.ids)
        _bump_deps(self.deps)


def _pending() -> _AfterCommit | None:
    """The current transaction's callback (registered on first use), or ``None`` outside a
    transaction. Django keeps the transaction's callbacks (a savepoint rolled back drops its
    own), so look for ours among them."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    pending = next((f for _, f, _ in connection.run_on_commit if isinstance(f, _AfterCommit)), None)
    if pending is None:
        pending = _AfterCommit()
        transaction.on_commit(pending, robust=True)
    return pending


def data_changed(*company_ids: int | None) -> None:
    """Retire every cached fragment computed from these companies' data once the surrounding
    transaction commits (at once outside a transaction). Until the commit, other readers
    still see the old rows, so the old fragment is still right for them."""
    ids = {pk for pk in company_ids if pk is not None}
    if not ids:
        return
    pending = _pending()
    if pending is None:
        _bump(ids)
    else:
        pending.ids |= ids


def deps_changed(*names: str) -> None:
    """Retire the cached fragments that depend on these :func:`dep` keys (on commit)."""
    pending = _pending()
    if pending is None:
        _bump_deps(names)
    else:
        pending.deps |= set(names)


@dataclass(frozen=True)
class _Narrow:
    company_id: int
    enrolment_id: int
    deps: frozenset[str]


_narrow: ContextVar[_Narrow | None] = ContextVar("datacache_narrow", default=None)

#: What one student's attendance of a lesson writes: the attendance and its history, the
#: credit decision and the student's credits with their events, a package use or a charge.
NARROW_MODELS = {
    "bookings.attendance",
    "bookings.attendancechange",
    "bookings.charge",
    "bookings.package",
    "bookings.packageuse",
    "credits.creditdecision",
    "credits.creditevent",
    "credits.makeupcredit",
}


@contextmanager
def narrow_writes(*, company_id: int, enrolment_id: int, family_id: int) -> Iterator[None]:
    """Inside, the writes of :data:`NARROW_MODELS` rows of ``company_id`` — a credit only
    when it is the enrolment's own — retire only the fragments that depend on the family
    (``dep("family", family_id)``), not the whole company's. For a lesson that has started:
    it is no longer offered to anyone, so its places concern nobody else. Every other write
    inside (a watcher booked, an offer) still retires the company's fragments."""
    token = _narrow.set(
        _Narrow(
            company_id=company_id,
            enrolment_id=enrolment_id,
            deps=frozenset({dep("family", family_id)}),
        )
    )
    try:
        yield
    finally:
        _narrow.reset(token)


def _narrowed(instance, narrow: _Narrow | None) -> bool:
    if narrow is None or instance._meta.label_lower not in NARROW_MODELS:
        return False
    if getattr(instance, "company_id", None) != narrow.company_id:
        return False
    if instance._meta.label_lower == "credits.makeupcredit":
        return instance.enrolment_id == narrow.enrolment_id == instance.holder_id
    return True


def _stamp(labels: list[str], keys: list[str], found: dict) -> str:
    """The versions under ``keys`` from ``found`` (creating any that are missing), labelled."""
    missing = [key for key in keys if key not in found]
    if missing:
        for key in missing:
            # Another process may create it first: read back whatever won.
            cache.add(key, uuid.uuid4().hex[:12], None)
        found = {**found, **cache.get_many(missing)}
    pairs = zip(labels, keys, strict=True)
    return ".".join(f"{label}={found.get(key, '')}" for label, key in pairs)


def _versions(ids: list[int], found: dict) -> str:
    """The companies' versions from ``found``."""
    return _stamp([str(pk) for pk in ids], [_version_key(pk) for pk in ids], found)


def data_versions(company_ids: Iterable[int]) -> str:
    """One string standing for the current data of all these companies (one cache call)."""
    ids = sorted(set(company_ids))
    return _versions(ids, cache.get_many([_version_key(pk) for pk in ids]))


def cached_fragment(
    *,
    name: str,
    company_id: int,
    parts: Iterable[object],
    render: Callable[[list[int]], str],
    now: datetime,
    deps: Iterable[str] = (),
    partners: Callable[[], list[int]] = list,
) -> str:
    """``render(partner_ids)``'s result, cached under ``name`` and ``parts`` (everything the
    fragment depends on besides the data: ids, filters, language), valid while the data
    versions of the company, of the ``partners()`` it also shows (approved partner branches)
    and of ``deps`` (:func:`dep` keys: the family whose page it is), and the minute, are those
    it was rendered with.

    One cache round trip on a hit, and no query: the fragment and the company's and the deps'
    versions are fetched together, and the partners are taken from the entry — a link between
    two companies is a write of both, so while the company's version holds, so does its list
    of partners. Only a company with partners has their versions read, in a second round
    trip."""
    if not getattr(settings, "DATA_CACHE_ENABLED", True):
        return render(partners())
    names = sorted(set(deps))
    raw = "|".join([name, str(company_id), *(str(p) for p in parts)])
    key = f"{_prefix()}:frag:{hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()}"
    found = cache.get_many([key, _version_key(company_id), *(_dep_key(n) for n in names)])
    stamp = f"{_versions([company_id], found)}|{_dep_versions(names, found)}@{now:%Y%m%d%H%M}"
    entry = found.get(key)
    if entry is not None and entry[0] == stamp:
        _stamp_, partner_stamp, partner_ids, html = entry
        if not partner_ids or data_versions(partner_ids) == partner_stamp:
            return html
    partner_ids = sorted(set(partners()))
    # The partners' versions before rendering: a write meanwhile leaves the entry stale.
    partner_stamp = data_versions(partner_ids) if partner_ids else ""
    html = render(partner_ids)
    cache.set(key, (stamp, partner_stamp, partner_ids, html), FRAGMENT_TTL)
    return html


def _dep_versions(names: list[str], found: dict) -> str:
    """The versions of the :func:`dep` keys ``names`` from ``found``."""
    return _stamp(names, [_dep_key(name) for name in names], found)


def _company_of(instance) -> int | None:
    if isinstance(instance, Company):
        return instance.pk
    return getattr(instance, "company_id", None)


# Rows that concern a second company too: a make-up booking (the guest's home company), a
# franchise link (both sides), a partner's incoming restriction.
OTHER_COMPANY_FIELDS = ("home_company_id", "inviter_id", "invitee_id", "partner_id")


def _on_write(sender, instance, **kwargs) -> None:
    narrow = _narrow.get()
    if _narrowed(instance, narrow):
        deps_changed(*narrow.deps)
        return
    data_changed(_company_of(instance), *(getattr(instance, f, None) for f in OTHER_COMPANY_FIELDS))


def connect() -> None:
    """Listen to saves and deletes of the tenant models only (a listener on every model would
    stop Django's fast deletes everywhere)."""
    for model in apps.get_models():
        meta = model._meta
        if meta.app_label in TRACKED_APPS or meta.model_name in {"companysettings", "company"}:
            uid = f"datacache-{meta.label_lower}"
            post_save.connect(_on_write, sender=model, dispatch_uid=f"{uid}-save")
            post_delete.connect(_on_write, sender=model, dispatch_uid=f"{uid}-delete")
