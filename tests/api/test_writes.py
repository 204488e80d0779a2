"""API-3: writes through the services the pages use — the same rules, locks and refusal
texts; 409/422 with the reason code, 503 with Retry-After for a lock that stays taken, and
the booking race on PostgreSQL."""

import threading
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection, transaction
from django_scopes import scope, scopes_disabled

from bookings.models import AttendanceChange, MakeupBooking
from credits.models import CancellationPolicy, CreditState, MakeupCredit
from makeup.errors import DomainError
from makeups.services import makeup_book
from tests import factories as f

from .conftest import NOW, ApiClient, make_key

pytestmark = pytest.mark.django_db


def _credit(enrolment):
    from credits.services import credit_add_manual

    with scope(company=enrolment.company):
        return credit_add_manual(
            enrolment=enrolment,
            reason="test",
            actor=None,
            valid_days=30,
            now=NOW - timedelta(days=1),
        )


@pytest.fixture
def mk(world):
    """Ava's credit in her home class; a host class of the same programme (any age, 2
    places) with a session on Tue 24 Nov 17:00 Sydney and another a week later."""
    w = SimpleNamespace(company=world.company_a)
    w.programme = f.ProgrammeFactory(company=w.company)
    w.home = f.ClassFactory(programme=w.programme, name="Home")
    w.host = f.ClassFactory(
        programme=w.programme, name="Host", capacity=2, min_age_months=None, max_age_months=None
    )
    w.ava = f.EnrolmentFactory(
        klass=w.home, student__first_name="Ava", student__date_of_birth=date(2020, 6, 1)
    )
    w.session = f.SessionFactory(klass=w.host)
    w.later = f.SessionFactory(klass=w.host, local_date=date(2026, 12, 1))
    w.credit = _credit(w.ava)
    return w


def _refusal_of_the_service(**kwargs) -> DomainError:
    """What the booking service itself answers (the pages show its message)."""
    with scopes_disabled():
        try:
            with transaction.atomic():
                makeup_book(now=NOW, **kwargs)
        except DomainError as error:
            return error
    raise AssertionError("the service booked")


def test_api_3_a_makeup_is_booked_through_the_booking_service(world, mk, api_a):
    response = api_a.post(
        "/api/v1/makeups", {"credit_id": mk.credit.pk, "session_id": mk.session.pk}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["session_id"] == mk.session.pk and body["credit_id"] == mk.credit.pk
    assert body["state"] == "booked" and body["source"] == "staff"
    with scopes_disabled():
        booking = MakeupBooking.objects.get(pk=body["id"])
        mk.credit.refresh_from_db()
    assert mk.credit.state == CreditState.USED and booking.booked_by == world.owner_a
    assert "API key “Tool”" in booking.note


def test_api_3_a_full_session_answers_409_with_the_code_and_the_pages_text(world, mk, api_a):
    f.EnrolmentFactory.create_batch(2, klass=mk.host)  # both places taken
    expected = _refusal_of_the_service(
        credit=mk.credit, session=mk.session, actor=world.owner_a, source="staff"
    )
    response = api_a.post(
        "/api/v1/makeups", {"credit_id": mk.credit.pk, "session_id": mk.session.pk}
    )
    assert response.status_code == 409
    assert response.json() == {"code": "full", "detail": expected.message}
    with scopes_disabled():
        assert not MakeupBooking.objects.filter(session=mk.session).exists()


def test_api_3_a_rule_refusal_answers_422_with_the_reason(world, mk, api_a):
    other = f.SessionFactory(klass__programme__company=world.company_a)  # another programme
    expected = _refusal_of_the_service(
        credit=mk.credit, session=other, actor=world.owner_a, source="staff"
    )
    response = api_a.post("/api/v1/makeups", {"credit_id": mk.credit.pk, "session_id": other.pk})
    assert response.status_code == 422
    assert response.json() == {"code": "not_eligible", "detail": expected.message}


def test_api_3_refusals_answer_in_the_language_asked_for(mk, api_a):
    regular = f.EnrolmentFactory(klass=mk.host)
    body = {
        "session_id": mk.session.pk,
        "enrolment_id": regular.pk,
        "state": "cancelled",
        "cancelled_at": (NOW + timedelta(days=1)).isoformat(),
    }
    english = api_a.put("/api/v1/attendance", body)
    czech = api_a.put("/api/v1/attendance", body, **{"Accept-Language": "cs"})
    assert english.status_code == czech.status_code == 422
    assert english.json()["detail"] == "The cancellation time can't be in the future."
    assert czech.json()["detail"] == "Čas omluvy nemůže být v budoucnosti."


def test_api_3_cancel_gives_the_credit_back_on_time_and_move_keeps_it_used(world, mk, api_a):
    booked = api_a.post(
        "/api/v1/makeups", {"credit_id": mk.credit.pk, "session_id": mk.session.pk}
    ).json()
    moved = api_a.post(f"/api/v1/makeups/{booked['id']}/move", {"session_id": mk.later.pk})
    assert moved.status_code == 200, moved.content
    assert moved.json()["session_id"] == mk.later.pk and moved.json()["state"] == "booked"
    with scopes_disabled():
        mk.credit.refresh_from_db()
    assert mk.credit.state == CreditState.USED
    again = api_a.post(f"/api/v1/makeups/{booked['id']}/move", {"session_id": mk.later.pk})
    assert again.status_code == 409 and again.json()["code"] == "same_session"
    cancelled = api_a.post(f"/api/v1/makeups/{booked['id']}/cancel", {})
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled" and not cancelled.json()["cancelled_late"]
    with scopes_disabled():
        mk.credit.refresh_from_db()
    assert mk.credit.state == CreditState.AVAILABLE
    twice = api_a.post(f"/api/v1/makeups/{booked['id']}/cancel", {})
    assert twice.status_code == 422 and "already cancelled" in twice.json()["detail"]


def test_api_3_attendance_takes_the_clients_cancellation_time_and_the_policy_decides(mk, api_a):
    regular = f.EnrolmentFactory(klass=mk.host)
    starts = mk.session.starts_at
    body = {"session_id": mk.session.pk, "enrolment_id": regular.pk, "state": "late_cancelled"}
    # The school's tool sends the cancellations half an hour before the lesson.
    with time_machine.travel(starts - timedelta(minutes=30), tick=False):
        on_time = api_a.put(
            "/api/v1/attendance", {**body, "cancelled_at": (starts - timedelta(days=2)).isoformat()}
        )
        assert on_time.status_code == 200, on_time.content
        assert on_time.json()["state"] == "cancelled"  # asked "late", the policy says on time
        late = api_a.put(
            "/api/v1/attendance",
            {**body, "cancelled_at": (starts - timedelta(hours=1)).isoformat()},
        )
        assert late.json()["state"] == "late_cancelled"
    future = api_a.put(
        "/api/v1/attendance", {**body, "cancelled_at": (NOW + timedelta(days=1)).isoformat()}
    )
    assert future.status_code == 422 and "future" in future.json()["detail"]
    with scopes_disabled():
        change = AttendanceChange.objects.filter(attendance__enrolment=regular).latest("pk")
    assert change.note == "API key “Tool”" and change.source == "api"


def test_api_3_a_client_cancellation_is_refused_late_with_the_companys_instructions(mk, api_a):
    regular = f.EnrolmentFactory(klass=mk.host)
    with scopes_disabled():
        policy = CancellationPolicy.objects.get(programme=mk.programme)
    policy.portal_late_cancellation = "refuse"
    policy.late_cancellation_instructions = "Call us on 02 9999 0000."
    policy.save()
    body = {"session_id": mk.session.pk, "enrolment_id": regular.pk}
    with time_machine.travel(mk.session.starts_at - timedelta(hours=2), tick=False):
        late = api_a.post("/api/v1/client-cancellations", body)
    assert late.status_code == 422
    assert late.json() == {"code": "late_refused", "detail": "Call us on 02 9999 0000."}
    on_time = api_a.post("/api/v1/client-cancellations", body)  # three days ahead
    assert on_time.status_code == 200 and on_time.json()["state"] == "cancelled"
    twice = api_a.post("/api/v1/client-cancellations", body)
    assert twice.status_code == 409 and twice.json()["code"] == "already"
    with scopes_disabled():
        change = AttendanceChange.objects.filter(attendance__enrolment=regular).get()
    # The history says who passed it on: the school's system, through its key.
    assert (change.source, change.note) == ("api", "API key “Tool”")


def test_api_3_a_lock_that_stays_taken_answers_503_with_retry_after(mk, api_a, monkeypatch):
    """The capacity lock's timeout (PostgreSQL's lock_not_available) becomes the service's
    "busy" refusal; the API answers it 503 with Retry-After."""
    from makeups.services import booking

    def busy(session_id, *, now):
        raise DomainError(
            "This session is busy right now: please try again in a moment.", code="busy"
        )

    monkeypatch.setattr(booking, "lock_session", busy)
    response = api_a.post(
        "/api/v1/makeups", {"credit_id": mk.credit.pk, "session_id": mk.session.pk}
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "2" and response.json()["code"] == "busy"


def test_api_3_a_bad_body_answers_422_without_a_write(mk, api_a):
    response = api_a.put(
        "/api/v1/attendance", {"session_id": mk.session.pk, "enrolment_id": mk.ava.pk, "state": "x"}
    )
    assert response.status_code == 422
    with scopes_disabled():
        assert not AttendanceChange.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_api_3_twenty_concurrent_api_bookings_for_the_last_place_book_exactly_one(world):
    programme = f.ProgrammeFactory(company=world.company_a)
    host = f.ClassFactory(programme=programme, capacity=3, min_age_months=None, max_age_months=None)
    f.EnrolmentFactory.create_batch(2, klass=host)  # one place left
    session = f.SessionFactory(klass=host)
    home = f.ClassFactory(programme=programme)
    credits = [_credit(f.EnrolmentFactory(klass=home)) for _ in range(20)]
    _key, raw = make_key(world.company_a, world.owner_a)
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def attempt(credit):
        client = ApiClient(raw)
        try:
            barrier.wait()
            response = client.post(
                "/api/v1/makeups", {"credit_id": credit.pk, "session_id": session.pk}
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(c,)) for c in credits]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(201) == 1
    assert statuses.count(409) == 19
    with scopes_disabled():
        assert MakeupBooking.objects.filter(session=session).count() == 1
        assert (
            MakeupCredit.objects.filter(pk__in=[c.pk for c in credits], state="used").count() == 1
        )
