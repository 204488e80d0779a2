"""The make-up search results are cached per company data version and minute
(makeup.datacache): any write that changes what a parent would be offered shows at once,
and clock-only rules are re-evaluated within the minute."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from bookings.models import AttendanceState
from bookings.services import attendance_set_state
from credits.models import MakeupCredit
from franchise.services.links import link_end
from makeup.datacache import data_versions
from makeups.services import makeup_book
from programmes.services.sessions import class_generate_sessions
from tests import factories as f
from tests.franchise.test_partner_makeups import fr  # noqa: F401 (fixture)

from .conftest import NOW, add_credit

# Real commits: the cache retires entries when a transaction commits.
pytestmark = [pytest.mark.datacache, pytest.mark.django_db(transaction=True)]


def _search(client):
    return client.get("/portal/alpha/makeups/").content.decode()


def test_mkp_7_a_booking_by_another_family_shows_in_the_cached_search_at_once(pf, login):
    client = login(pf.user)
    assert "2 places left" in _search(client)
    with CaptureQueriesContext(connection) as cached:
        assert "2 places left" in _search(client)  # from the cache
    assert len(cached.captured_queries) <= 4  # session, company, user, parent
    other = f.EnrolmentFactory(klass=pf.home, student__date_of_birth=date(2019, 1, 1))
    credit = add_credit(other)
    with scope(company=pf.company):
        makeup_book(credit=credit, actor=f.parent_of(credit), session=pf.session, now=NOW)
    assert "1 place left" in _search(client)


def test_mkp_7_a_regular_cancelling_frees_a_place_in_the_cached_search(pf, login):
    regulars = f.EnrolmentFactory.create_batch(
        2, klass=pf.host, student__date_of_birth=date(2019, 1, 1)
    )
    client = login(pf.user)
    assert "Watch for a free place" in _search(client)
    with scope(company=pf.company):
        attendance_set_state(
            enrolment=regulars[0],
            session=pf.session,
            state=AttendanceState.CANCELLED,
            cancelled_at=NOW,
            now=NOW,
        )
    assert "1 place left" in _search(client)


def test_mkp_6_a_session_that_started_leaves_the_cached_search_within_the_minute(pf, login, frozen):
    frozen.move_to(pf.session.starts_at - timedelta(seconds=30))
    client = login(pf.user)
    assert "Host Sharks" in _search(client)
    frozen.move_to(pf.session.starts_at + timedelta(seconds=31))  # the next minute
    assert "Host Sharks" not in _search(client)


def test_session_generation_changes_the_company_data_version(pf):
    before = data_versions([pf.company.pk])
    klass = f.ClassFactory(programme=pf.programme, start_date=date(2026, 11, 1))
    f.ClassScheduleFactory(klass=klass)
    after_class = data_versions([pf.company.pk])
    assert after_class != before
    with scope(company=pf.company), transaction.atomic():
        class_generate_sessions(klass=klass, now=NOW)
    assert data_versions([pf.company.pk]) != after_class


def test_a_write_in_one_company_leaves_the_others_cache_alone(pf, world):
    mine, theirs = data_versions([pf.company.pk]), data_versions([world.company_b.pk])
    f.ProgrammeFactory(company=world.company_b)
    assert data_versions([pf.company.pk]) == mine
    assert data_versions([world.company_b.pk]) != theirs


def test_ten_1_the_cached_search_is_per_family(pf, login):
    url = f"/portal/alpha/makeups/?credit={pf.credit.pk}"
    assert "Ava" in login(pf.user).get(url).content.decode()
    other = f.GuardianFactory(family__company=pf.company)
    f.EnrolmentFactory(klass=pf.home, student__family=other.family, student__first_name="Zed")
    theirs = login(other.user).get(url)
    assert theirs.status_code == 404  # Ava's credit, already cached for her family
    page = _search(login(other.user))
    assert "Zed" in page and "Ava" not in page


def test_a_roll_call_elsewhere_in_the_company_keeps_the_cached_search(pf, login, world):
    """Staff marking attendance (a busy hour) write one student in one session: the cached
    searches of families that don't list that session stay cached."""
    past = f.SessionFactory(klass=pf.home, local_date=date(2026, 11, 17))
    other = f.EnrolmentFactory(klass=pf.home, student__date_of_birth=date(2019, 1, 1))
    client = login(pf.user)
    assert "Host Sharks" in _search(client)
    before = data_versions([pf.company.pk])
    with scope(company=pf.company):
        for state in (AttendanceState.PRESENT, AttendanceState.NO_SHOW):
            attendance_set_state(
                enrolment=other, session=past, state=state, actor=world.staff_a, now=NOW
            )
    assert data_versions([pf.company.pk]) == before
    with CaptureQueriesContext(connection) as hit:
        assert "Host Sharks" in _search(client)
    assert len(hit.captured_queries) <= 4  # served from the cache


def test_an_attendance_of_the_familys_own_child_refreshes_its_cached_search(pf, login, world):
    """A credit issued to one of the family's children (here: a cancellation staff record
    late, told in time) shows in the cached search at once."""
    past = f.SessionFactory(klass=pf.home, local_date=date(2026, 11, 17))
    client = login(pf.user)
    before = _search(client)
    with scope(company=pf.company):
        attendance_set_state(
            enrolment=pf.ava,
            session=past,
            state=AttendanceState.CANCELLED,
            cancelled_at=datetime(2026, 11, 10, tzinfo=UTC),
            actor=world.staff_a,
            now=NOW,
        )
        new = MakeupCredit.objects.exclude(pk=pf.credit.pk).get(enrolment=pf.ava)
    after = _search(client)
    assert after != before and f'value="{new.pk}"' in after


def test_frn_6_the_cached_search_follows_the_partners_data_and_the_link(
    fr,  # noqa: F811 (the partner make-up fixture, imported above)
    login,
    world,
):
    """A hit takes the partner branches from the entry (no query): a new session at the
    partner shows at once, and so does the end of the link."""
    client = login(world.parent_a)
    assert f'id="slot-{fr.session.pk}"' in _search(client)
    with CaptureQueriesContext(connection) as hit:
        assert f'id="slot-{fr.session.pk}"' in _search(client)
    assert len(hit.captured_queries) <= 4  # session, company, user, parent: no partner lookup
    later = f.SessionFactory(
        klass=fr.host_class, local_date=date(2026, 11, 26), local_time=time(16)
    )
    assert f'id="slot-{later.pk}"' in _search(client)
    with scope(company=fr.home):
        link_end(link=fr.link, company=fr.home, actor=world.owner_a, now=NOW)
    assert "Lake Sharks" not in _search(client)
