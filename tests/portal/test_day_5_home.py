"""DAY-5: the parent's home leads with what matters — the amount due (with "Pay" and the
statement), the credits with their expiry, the next lessons — and a "Can't come" can be
undone while the place is still free and its credit unused. Time is frozen on Sat 21 Nov
2026, 11:00 in Sydney; Ava's lessons are on Tue 24 Nov and Tue 1 Dec at 17:00."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django_scopes import scope, scopes_disabled

from bookings.models import Attendance, AttendanceChange, Charge, Enrolment, Payment
from bookings.models import AttendanceState as S
from bookings.selectors.account import amount_to_pay, balance_gate, family_account_statement
from bookings.services import attendance_set_state
from bookings.services.account import payment_record
from credits.models import (
    CancellationPolicy,
    CreditEvent,
    CreditState,
    MakeupCredit,
    PolicyMode,
    WeeklyCutoff,
)
from makeup.errors import DomainError
from makeups.services import lesson_cancel_by_parent, lesson_cancel_undo, makeup_book
from portal.selectors.family import family_upcoming
from tests import factories as f

from .conftest import NOW, add_credit
from .test_portal_queries import _busy_family

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 21)


def _lesson_on(pf, day: date):
    """Ava was present at a lesson on ``day``: a charge of 25.00 dated that day (BAL-1)."""
    with scope(company=pf.company):
        session = f.SessionFactory(klass=pf.home, local_date=day)
        attendance_set_state(enrolment=pf.ava, session=session, state=S.PRESENT, now=NOW)


def _gate(pf, *, days: int | None = 30, payments: bool = True):
    settings = pf.company.settings
    settings.balance_gate_enabled, settings.balance_gate_days = days is not None, days
    settings.portal_payments_enabled = payments
    settings.save()


# --- the home page ------------------------------------------------------------------------


def test_day_5_home_leads_with_amount_due_credits_then_lessons(pf, login):
    _gate(pf)
    _lesson_on(pf, date(2026, 11, 17))
    html = login(pf.user).get("/portal/alpha/").content.decode()
    order = [
        "Amount due: <strong>AUD 25.00</strong>",
        "Make-up credits",
        "Use by",
        "Upcoming lessons",
        "Missed lessons",
        "Your children",
    ]
    positions = [html.index(text) for text in order]
    assert positions == sorted(positions)
    assert html.count('href="/portal/alpha/makeups/') >= 2  # "Book a make-up" at the top too
    assert 'href="/portal/alpha/pay/"' in html and 'href="/portal/alpha/statement/"' in html
    assert "you can't book make-ups" in html  # the gate blocks: the parent is told why


def test_day_5_home_without_portal_payments_shows_the_amount_but_no_pay_button(pf, login):
    _gate(pf, days=None, payments=False)
    _lesson_on(pf, date(2026, 11, 17))
    html = login(pf.user).get("/portal/alpha/").content.decode()
    assert "Amount due: <strong>AUD 25.00</strong>" in html
    assert "/portal/alpha/pay/" not in html and "/portal/alpha/statement/" in html
    assert "you can't book make-ups" not in html  # no gate: nothing is blocked


def test_day_5_home_with_nothing_due_links_the_statement_only(pf, login):
    html = login(pf.user).get("/portal/alpha/").content.decode()
    assert "Amount due" not in html and "/portal/alpha/pay/" not in html
    assert "Your account: charges and payments" in html


def test_day_5_home_costs_the_same_queries_for_1_and_3_children_with_money(
    world, login, frozen, page_queries
):
    settings = world.company_a.settings
    settings.balance_gate_enabled, settings.balance_gate_days = True, 30
    settings.portal_payments_enabled = True
    settings.save()
    programme = f.ProgrammeFactory(company=world.company_a)
    one = _busy_family(world.company_a, programme, 1, "one@x.io")
    three = _busy_family(world.company_a, programme, 3, "three@x.io")
    for guardian, n in ((one, 1), (three, 3)):
        with scope(company=world.company_a):
            enrolments = list(Enrolment.objects.filter(student__family=guardian.family))
            past = f.SessionFactory(klass=enrolments[0].klass, local_date=date(2026, 11, 17))
            for enrolment in enrolments:
                attendance_set_state(enrolment=enrolment, session=past, state=S.PRESENT, now=NOW)
            payment_record(
                family=guardian.family, amount=Decimal("1.00"), method="cash", paid_on=TODAY
            )
        with scopes_disabled():
            assert Charge.objects.filter(family=guardian.family).count() == n
    small, _ = page_queries(login(one.user), "/portal/alpha/")
    large, page = page_queries(login(three.user), "/portal/alpha/")
    assert small == large
    assert "AUD 74.00" in page.content.decode()
    small, _ = page_queries(login(one.user), "/portal/alpha/statement/")
    large, _ = page_queries(login(three.user), "/portal/alpha/statement/")
    assert small == large


# --- the statement ------------------------------------------------------------------------


def test_day_5_statement_with_the_gate_counts_its_period_as_the_gate_does(pf, login):
    _gate(pf, days=30)
    _lesson_on(pf, date(2026, 10, 22))  # exactly 30 days ago: outside the window (BAL-3)
    _lesson_on(pf, date(2026, 11, 3))
    _lesson_on(pf, date(2026, 11, 17))
    with scope(company=pf.company):
        payment_record(
            family=pf.family, amount=Decimal("10.00"), method="card", paid_on=date(2026, 11, 18)
        )
        statement = family_account_statement(family=pf.family, now=NOW)
        gate = balance_gate(family=pf.family, now=NOW)
        to_pay = amount_to_pay(family=pf.family, now=NOW)
    assert [r.day for r in statement.rows] == [
        date(2026, 11, 3),
        date(2026, 11, 17),
        TODAY - timedelta(days=3),
    ]
    assert (statement.charged, statement.paid) == (Decimal("50.00"), Decimal("10.00"))
    assert statement.due == gate.due == to_pay == Decimal("40.00")
    assert statement.rows[-1].balance == Decimal("40.00")
    html = login(pf.user).get("/portal/alpha/statement/").content.decode()
    assert "The last 30 days, after 22 Oct 2026" in html
    assert "22 Oct 2026" in html and "Thu 22 Oct 2026" not in html  # not a row
    assert 'id="statement-due">AUD 40.00<' in html and "Amount due" in html
    assert 'href="/portal/alpha/pay/"' in html


def test_day_5_statement_without_the_gate_brings_the_earlier_balance_forward(pf, login):
    _gate(pf, days=None, payments=False)
    old = f.ClassFactory(programme=pf.programme, start_date=date(2025, 9, 1))
    with scope(company=pf.company):
        last_year = f.SessionFactory(klass=old, local_date=date(2025, 10, 1))
        attendance_set_state(  # more than a year ago: in the balance brought forward
            enrolment=f.EnrolmentFactory(klass=old, student=pf.ava.student),
            session=last_year,
            state=S.PRESENT,
            now=NOW,
        )
    _lesson_on(pf, date(2026, 11, 17))
    with scope(company=pf.company):
        statement = family_account_statement(family=pf.family, now=NOW)
        to_pay = amount_to_pay(family=pf.family, now=NOW)
    assert statement.opening == Decimal("25.00") and len(statement.rows) == 1
    assert statement.due == to_pay == Decimal("50.00")
    html = login(pf.user).get("/portal/alpha/statement/").content.decode()
    assert "Balance on 21 Nov 2025" in html and 'id="statement-due">AUD 50.00<' in html
    assert "/portal/alpha/pay/" not in html


# --- "Can't come" and its undo --------------------------------------------------------------


def _cant_come(pf, session=None):
    with scope(company=pf.company):
        return lesson_cancel_by_parent(
            enrolment=pf.ava, session=session or pf.lesson, actor=pf.user, now=NOW
        )


def _undo(pf, *, actor=None, now=NOW, session=None):
    with scope(company=pf.company):
        return lesson_cancel_undo(
            enrolment=pf.ava, session=session or pf.lesson, actor=actor or pf.user, now=now
        )


def _lesson_credit(attendance):
    with scopes_disabled():
        return MakeupCredit.objects.get(attendance=attendance)


def _lesson_row(html: str, pf) -> str:
    row = html[html.index(f'id="lesson-{pf.ava.pk}-{pf.lesson.pk}"') :]
    return row[: row.index('<li class="list-group-item lesson', 10)]


def test_day_5_cant_come_is_listed_with_its_undo_not_under_missed_lessons(pf, login):
    _cant_come(pf)
    client = login(pf.user)
    html = client.get("/portal/alpha/").content.decode()
    missed = html[html.index("Missed lessons") :]
    assert "No missed lessons." in missed
    row = _lesson_row(html, pf)
    assert "You told us you can't come." in row and "Undo “Can't come”" in row
    url = f"/portal/alpha/lessons/{pf.ava.pk}/{pf.lesson.pk}/undo/"
    assert url in row
    done = client.post(url, follow=True).content.decode()
    assert "is on again" in done
    assert ">Can't come</button>" in _lesson_row(done, pf)


def test_day_5_undo_revokes_the_credit_and_keeps_the_history(pf):
    attendance = _cant_come(pf)
    credit = _lesson_credit(attendance)
    assert credit.state == CreditState.AVAILABLE
    undone = _undo(pf)
    assert undone.state == S.EXPECTED and undone.cancelled_at is None
    credit.refresh_from_db()
    assert credit.state == CreditState.REVOKED
    with scopes_disabled():
        event = CreditEvent.objects.filter(credit=credit).latest("pk")
        change = AttendanceChange.objects.filter(attendance=attendance).latest("pk")
    assert (event.kind, event.actor, event.at) == (CreditEvent.Kind.REVOKED, pf.user, NOW)
    assert (change.from_state, change.to_state) == (S.CANCELLED, S.EXPECTED)
    assert (change.source, change.changed_by) == (AttendanceChange.Source.PORTAL, pf.user)


def test_day_5_undo_of_a_late_cancellation_reverses_its_charge(pf):
    with scope(company=pf.company):
        late = f.SessionFactory(klass=pf.home, local_date=date(2026, 11, 21))  # 17:00 today
    attendance = _cant_come(pf, session=late)
    assert attendance.state == S.LATE_CANCELLED
    with scopes_disabled():
        live = Charge.objects.filter(attendance=attendance, reversed_at__isnull=True)
        assert live.exists()
    _undo(pf, session=late)
    with scopes_disabled():
        assert not live.exists()


def test_day_5_undo_is_refused_from_the_lesson_start_on(pf):
    attendance = _cant_come(pf)
    with pytest.raises(DomainError, match="already started"):
        _undo(pf, now=pf.lesson.starts_at)
    attendance.refresh_from_db()
    assert attendance.state == S.CANCELLED
    assert _lesson_credit(attendance).state == CreditState.AVAILABLE
    assert _undo(pf, now=pf.lesson.starts_at - timedelta(seconds=1)).state == S.EXPECTED


def test_day_5_undo_is_refused_when_a_make_up_guest_took_the_place(pf, login):
    with scope(company=pf.company):
        pf.home.capacity, pf.home.extra_makeup_capacity = 1, 0
        pf.home.extra_capacity_mode = "replace"
        pf.home.save()
    attendance = _cant_come(pf)
    guest = f.EnrolmentFactory(klass=pf.host, student__date_of_birth=date(2020, 1, 1))
    with scope(company=pf.company):
        makeup_book(credit=add_credit(guest), actor=f.parent_of(guest), session=pf.lesson, now=NOW)
    with pytest.raises(DomainError, match="taken the place"):
        _undo(pf)
    attendance.refresh_from_db()
    assert attendance.state == S.CANCELLED
    assert _lesson_credit(attendance).state == CreditState.AVAILABLE
    html = login(pf.user).get("/portal/alpha/").content.decode()
    assert "taken the place meanwhile" in html and "/undo/" not in html


def test_day_5_undo_is_refused_once_the_credit_is_spent(pf):
    attendance = _cant_come(pf)
    credit = _lesson_credit(attendance)
    with scope(company=pf.company):
        makeup_book(credit=credit, actor=pf.user, session=pf.session, now=NOW)
    with pytest.raises(DomainError, match="already booked for a make-up"):
        _undo(pf)
    attendance.refresh_from_db()
    credit.refresh_from_db()
    assert attendance.state == S.CANCELLED and credit.state == CreditState.USED


def test_day_5_undo_is_refused_to_another_familys_parent(pf, world):
    attendance = _cant_come(pf)
    stranger = f.GuardianFactory(family__company=pf.company, user__email="other@x.io").user
    with pytest.raises(DomainError) as refused:
        _undo(pf, actor=stranger)
    assert refused.value.code == "not_parent"
    with pytest.raises(DomainError):
        _undo(pf, actor=world.staff_a)
    attendance.refresh_from_db()
    assert attendance.state == S.CANCELLED


def test_day_5_undo_twice_is_refused_the_second_time(pf):
    _cant_come(pf)
    _undo(pf)
    with pytest.raises(DomainError, match="no “Can't come” to undo"):
        _undo(pf)
    with scopes_disabled():
        assert MakeupCredit.objects.filter(state=CreditState.REVOKED).count() == 1


def test_day_5_a_cancellation_staff_recorded_is_not_undone_in_the_portal(pf):
    with scope(company=pf.company):
        attendance_set_state(
            enrolment=pf.ava, session=pf.lesson, state=S.CANCELLED, cancelled_at=NOW, now=NOW
        )
    with pytest.raises(DomainError, match="school recorded"):
        _undo(pf)
    with scopes_disabled():
        assert Attendance.objects.get(enrolment=pf.ava, session=pf.lesson).state == S.CANCELLED


def test_day_5_another_family_cannot_post_the_undo(pf, login):
    _cant_come(pf)
    other = f.GuardianFactory(family__company=pf.company, user__email="other@x.io")
    response = login(other.user).post(f"/portal/alpha/lessons/{pf.ava.pk}/{pf.lesson.pk}/undo/")
    assert response.status_code == 404
    with scopes_disabled():
        assert not Payment.objects.exists()  # nothing else moved
        assert Attendance.objects.get(enrolment=pf.ava, session=pf.lesson).state == S.CANCELLED


def _weekly(programme, *, lesson_weekday: int, cutoff_weekday: int, hour: int):
    """The programme's policy becomes a weekly cut-off table with one row (POL-1)."""
    with scope(company=programme.company):
        policy = CancellationPolicy.objects.get(programme=programme)
        policy.mode = PolicyMode.WEEKLY_CUTOFF
        policy.save()
        WeeklyCutoff.objects.create(
            company=programme.company,
            policy=policy,
            lesson_weekday=lesson_weekday,
            cutoff_weekday=cutoff_weekday,
            cutoff_time=time(hour),
        )


def test_pol_1_each_upcoming_lesson_shows_its_own_programmes_cut_off(pf, world, login):
    """The home reads the company's policies and weekly tables once: a Tuesday lesson of a
    weekly-table programme is on time until Sunday 18:00, a Thursday lesson of another
    programme until 48 hours before, and another company's table for Tuesdays is not used."""
    _weekly(pf.programme, lesson_weekday=1, cutoff_weekday=6, hour=18)
    music = f.ProgrammeFactory(company=pf.company, name="Piano")
    with scope(company=pf.company):
        CancellationPolicy.objects.filter(programme=music).update(hours_before=48)
        piano = f.ClassFactory(programme=music, name="Piano Thursdays")
        f.EnrolmentFactory(klass=piano, student=pf.ava.student)
        thursday = f.SessionFactory(klass=piano, local_date=date(2026, 11, 26), local_time=time(16))
    elsewhere = f.ProgrammeFactory(company=world.company_b)
    _weekly(elsewhere, lesson_weekday=1, cutoff_weekday=0, hour=8)
    with scope(company=pf.company):
        (child,) = family_upcoming(
            family=pf.family, students=[pf.ava.student], now=NOW, company=pf.company
        )
    sydney = pf.company.tzinfo
    cutoffs = {lesson.session.pk: lesson.cutoff.astimezone(sydney) for lesson in child.lessons}
    assert cutoffs == {
        pf.lesson.pk: datetime(2026, 11, 22, 18, tzinfo=sydney),  # Sunday before, 18:00
        pf.next_lesson.pk: datetime(2026, 11, 29, 18, tzinfo=sydney),
        thursday.pk: thursday.starts_at.astimezone(sydney) - timedelta(hours=48),
    }
    html = login(pf.user).get("/portal/alpha/").content.decode()
    assert "On time if cancelled by Sun 22 Nov, 18:00." in _lesson_row(html, pf)
