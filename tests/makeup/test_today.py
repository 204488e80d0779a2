"""DAY-2: the back office opens on Today — what needs doing, each a count with a link, and the
day's sessions with their roll call. Every item appears when due and goes when done; the page
costs the same number of queries with 1 or 50 sessions; another company's data never counts.

Time is frozen on Sat 21 Nov 2026, 11:00 in Sydney (both companies' zone)."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from bookings.models import AttendanceState as S
from bookings.models import Guardian, MakeupBooking
from bookings.selectors.account import balance_gate, blocked_families
from bookings.services import attendance_set_state
from bookings.services.account import payment_record
from credits.models import AbsenceClaim, CreditDecision, DecisionReason, SessionWatch
from credits.services import credit_add_manual
from credits.services.claims import claim_decline, claim_submit
from credits.services.decisions import decision_mark_reviewed
from franchise.services import link_approve, link_invite
from makeups.services import watch_end
from tests import factories as f

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # Sat 21 Nov, 11:00 in Sydney
TODAY = date(2026, 11, 21)
DASHBOARD = "/manage/"


def _page(client):
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    return response


def _due(response) -> dict[str, int]:
    return {item.key: item.count for item in response.context["due"]}


def _done(response) -> set[str]:
    return {item.key for item in response.context["done"]}


def _sessions(response):
    (agenda,) = response.context["agenda"]
    return agenda.rows


def _today_session(klass, at: time, **kwargs):
    return f.SessionFactory(klass=klass, local_date=TODAY, local_time=at, **kwargs)


# --- today's sessions and their roll call ---------------------------------------------------


def test_day_2_a_started_session_without_roll_call_is_flagged_until_taken(world, login):
    klass = f.ClassFactory(programme__company=world.company_a, name="Morning Dolphins")
    ava = f.EnrolmentFactory(klass=klass, student__first_name="Ava")
    started = _today_session(klass, time(9, 0))  # 09:00, two hours ago
    later = _today_session(klass, time(17, 0))
    client = login(world.staff_a)

    response = _page(client)
    assert _due(response)["roll_call"] == 1
    rows = _sessions(response)
    assert [(r.title, r.flag, r.done) for r in rows] == [
        ("Morning Dolphins", True, False),
        ("Morning Dolphins", False, False),
    ]
    assert rows[0].status == "Started, roll call not taken"
    assert rows[1].status == "Not started"
    assert rows[0].url == reverse("manage:session_detail", args=[started.pk])
    # One such session: the item takes staff straight to its attendance view.
    item = next(i for i in response.context["due"] if i.key == "roll_call")
    assert item.url == reverse("manage:session_detail", args=[started.pk])
    content = response.content.decode()
    assert "Started, roll call not taken" in content
    assert reverse("manage:session_detail", args=[later.pk]) in content

    with scope(company=world.company_a):
        attendance_set_state(
            enrolment=ava, session=started, state=S.PRESENT, actor=world.staff_a, now=NOW
        )
    response = _page(client)
    assert "roll_call" not in _due(response) and "roll_call" in _done(response)
    assert (_sessions(response)[0].status, _sessions(response)[0].done) == (
        "Roll call taken",
        True,
    )

    # A make-up guest still expected is part of the roll call too.
    home = f.EnrolmentFactory(klass__programme=klass.programme, student__first_name="Noah")
    with scopes_disabled():
        MakeupBooking.objects.create(
            company=world.company_a,
            home_company=world.company_a,
            session=started,
            student=home.student,
            enrolment=home,
            source="staff",
            booked_at=NOW - timedelta(days=1),
        )
    response = _page(client)
    assert _due(response)["roll_call"] == 1
    assert _sessions(response)[0].status == "Roll call: 1 of 2 marked"


def test_day_2_todays_sessions_are_the_companys_day_own_first(world, login):
    """The day is the company's (Sydney): 00:30 on Sunday is still Saturday in UTC, but not
    today. The sessions a staff member teaches come first, then by time."""
    theirs = f.ClassFactory(
        programme__company=world.company_a, name="Lucy's", instructor=world.staff_a
    )
    other = f.ClassFactory(
        programme__company=world.company_a, name="Others'", instructor=world.admin_a
    )
    _today_session(other, time(8, 0))
    _today_session(theirs, time(16, 0))
    _today_session(other, time(18, 0), minutes=45)
    f.SessionFactory(klass=other, local_date=date(2026, 11, 22), local_time=time(0, 30))
    f.SessionFactory(klass=other, local_date=date(2026, 11, 20), local_time=time(18, 0))

    rows = _sessions(_page(login(world.staff_a)))
    assert [(r.title, r.highlight) for r in rows] == [
        ("Lucy's", True),
        ("Others'", False),
        ("Others'", False),
    ]
    assert [r.starts_at.astimezone(world.company_a.tzinfo).hour for r in rows] == [16, 8, 18]

    rows = _sessions(_page(login(world.owner_a)))
    assert [r.title for r in rows] == ["Others'", "Lucy's", "Others'"]


def test_day_2_a_cancelled_or_empty_session_needs_no_roll_call(world, login):
    klass = f.ClassFactory(programme__company=world.company_a)
    _today_session(klass, time(8, 0), cancelled_at=NOW - timedelta(days=1))
    _today_session(klass, time(9, 0))  # nobody enrolled
    response = _page(login(world.staff_a))
    assert "roll_call" in _done(response)
    assert [(r.status, r.flag) for r in _sessions(response)] == [
        ("Cancelled", False),
        ("No students", False),
    ]


# --- claims, flagged corrections, expiring credits --------------------------------------------


@pytest.fixture
def parker(world):
    with scopes_disabled():
        guardian = Guardian.objects.select_related("family").get(user=world.parent_a)
    klass = f.ClassFactory(programme__company=world.company_a)
    return f.EnrolmentFactory(klass=klass, student__family=guardian.family)


def test_day_2_open_claims_appear_and_go_when_answered(world, login, parker):
    client = login(world.staff_a)
    assert "open_claims" in _done(_page(client))
    missed = f.SessionFactory(klass=parker.klass, local_date=date(2026, 11, 17))
    with time_machine.travel(NOW, tick=False), scope(company=world.company_a):
        attendance = attendance_set_state(
            enrolment=parker, session=missed, state=S.NO_SHOW, actor=world.staff_a, now=NOW
        )
        claim = claim_submit(attendance=attendance, guardian_user=world.parent_a, now=NOW)

    response = _page(client)
    assert _due(response)["open_claims"] == 1
    item = next(i for i in response.context["due"] if i.key == "open_claims")
    assert item.url == reverse("manage:claim_list")

    with scope(company=world.company_a):
        claim_decline(claim=claim, actor=world.staff_a, reason="We had no call.", now=NOW)
        assert AbsenceClaim.objects.get(pk=claim.pk).state == "declined"
    assert "open_claims" in _done(_page(client))


def _flagged_decision(company, enrolment):
    session = f.SessionFactory(klass=enrolment.klass, local_date=date(2026, 11, 10))
    attendance = f.AttendanceFactory(enrolment=enrolment, session=session, state=S.PRESENT)
    return CreditDecision.objects.create(
        company=company,
        attendance=attendance,
        attendance_state=S.PRESENT,
        reason=DecisionReason.SPENT_CONFLICT,
        message="Corrected to present, but the credit was already used.",
        decided_at=NOW,
        needs_attention=True,
    )


def test_day_2_flagged_corrections_appear_for_admins_until_reviewed(world, login, parker):
    with scopes_disabled():
        decision = _flagged_decision(world.company_a, parker)
    client = login(world.admin_a)
    response = _page(client)
    assert _due(response)["flagged_decisions"] == 1
    item = next(i for i in response.context["due"] if i.key == "flagged_decisions")
    assert item.url == reverse("manage:credit_list") + "#conflicts-heading"
    assert 'id="conflicts-heading"' in client.get(item.url).content.decode()
    # Staff can't mark it reviewed: it is not on their list.
    staff_page = _page(login(world.staff_a))
    assert "flagged_decisions" not in _due(staff_page) | dict.fromkeys(_done(staff_page), 0)

    with scope(company=world.company_a):
        decision_mark_reviewed(decision=decision, actor=world.admin_a, now=NOW)
    assert "flagged_decisions" in _done(_page(login(world.admin_a)))


def test_day_2_credits_expiring_within_the_reminder_days_link_to_the_filtered_list(
    world, login, parker
):
    settings = world.company_a.settings
    settings.expiry_reminder_days = 7
    settings.save()
    with scope(company=world.company_a):
        soon = credit_add_manual(enrolment=parker, reason="test", actor=None, valid_days=3, now=NOW)
        credit_add_manual(enrolment=parker, reason="test", actor=None, valid_days=30, now=NOW)
    client = login(world.staff_a)
    response = _page(client)
    assert _due(response)["expiring_credits"] == 1
    item = next(i for i in response.context["due"] if i.key == "expiring_credits")
    assert item.url == reverse("manage:credit_list") + "?state=available&expiring_within=7"
    listed = client.get(item.url).context["page"].object_list
    assert [c.pk for c in listed] == [soon.pk]

    # Once it has expired there is nothing left to do about it.
    with time_machine.travel(NOW + timedelta(days=4)):
        assert "expiring_credits" in _done(_page(client))


# --- watched full sessions ----------------------------------------------------------------


def test_day_2_full_sessions_with_watchers_appear_until_the_watch_ends(world, login, parker):
    host = f.ClassFactory(programme=parker.klass.programme, name="Host Sharks")
    upcoming = f.SessionFactory(klass=host, local_date=date(2026, 11, 24))
    past = f.SessionFactory(klass=host, local_date=date(2026, 11, 17))
    with scope(company=world.company_a):
        credit = credit_add_manual(enrolment=parker, reason="t", actor=None, valid_days=30, now=NOW)
        watches = [
            SessionWatch.objects.create(
                company=world.company_a,
                session=session,
                student=parker.student,
                credit=credit,
                created_at=NOW - timedelta(days=5),
            )
            for session in (upcoming, past)
        ]
    client = login(world.staff_a)
    response = _page(client)
    assert _due(response)["watched_sessions"] == 1
    item = next(i for i in response.context["due"] if i.key == "watched_sessions")
    assert item.url == reverse("manage:session_detail", args=[upcoming.pk])
    assert [(r.title, r.note) for r in item.rows] == [("Host Sharks", "1 family watching")]

    with scope(company=world.company_a):
        watch_end(watch=watches[0], reason="Stopped by staff", now=NOW)
    assert "watched_sessions" in _done(_page(client))


# --- families blocked by the balance gate -------------------------------------------------


def _gate_on(company, days=30):
    settings = company.settings
    settings.balance_gate_enabled, settings.balance_gate_days = True, days
    settings.save()


def _owe(enrolment, day: date):
    """The student attended a lesson on ``day``, not paid (AUD 25.00)."""
    session = f.SessionFactory(klass=enrolment.klass, local_date=day)
    attendance_set_state(enrolment=enrolment, session=session, state=S.PRESENT, now=NOW)


def test_day_2_blocked_families_appear_link_to_the_filtered_list_and_go_when_paid(
    world, login, parker
):
    client = login(world.staff_a)
    with scope(company=world.company_a):
        _owe(parker, TODAY - timedelta(days=3))
    # The gate off: nobody is blocked, and the item is not shown at all.
    response = _page(client)
    assert "blocked_families" not in _due(response) | dict.fromkeys(_done(response), 0)

    _gate_on(world.company_a)
    response = _page(client)
    assert _due(response)["blocked_families"] == 1
    item = next(i for i in response.context["due"] if i.key == "blocked_families")
    assert item.url == reverse("manage:family_list") + "?blocked=1"
    f.FamilyFactory(company=world.company_a, name="Aaronson")  # owes nothing
    listed = client.get(item.url)
    assert [family.pk for family in listed.context["page"].object_list] == [
        parker.student.family_id
    ]
    assert "Show all families" in listed.content.decode()

    with scope(company=world.company_a):
        payment_record(
            family=parker.student.family, amount=Decimal("25.00"), method="card", paid_on=TODAY
        )
    assert "blocked_families" in _done(_page(client))


def test_day_2_bal_3_blocked_families_is_the_balance_gate_for_every_family_at_once(world):
    """The bulk selector agrees with ``balance_gate`` family by family: a charge inside the
    window, one exactly ``days`` old (outside), a reversed one, part and full payments."""
    _gate_on(world.company_a, days=10)
    owes, old, paid_part, paid_all, reversed_, nothing = (
        f.EnrolmentFactory(klass__programme__company=world.company_a) for _ in range(6)
    )
    with scope(company=world.company_a):
        _owe(owes, TODAY - timedelta(days=2))
        _owe(old, TODAY - timedelta(days=10))
        for enrolment in (paid_part, paid_all):
            _owe(enrolment, TODAY - timedelta(days=1))
        payment_record(
            family=paid_part.student.family, amount=Decimal("10"), method="cash", paid_on=TODAY
        )
        payment_record(
            family=paid_all.student.family, amount=Decimal("25"), method="cash", paid_on=TODAY
        )
        session = f.SessionFactory(klass=reversed_.klass, local_date=TODAY - timedelta(days=1))
        attendance_set_state(enrolment=reversed_, session=session, state=S.PRESENT, now=NOW)
        attendance_set_state(enrolment=reversed_, session=session, state=S.STAFF_CANCELLED, now=NOW)
        families = [e.student.family for e in (owes, old, paid_part, paid_all, reversed_, nothing)]
        one_by_one = {fam.pk for fam in families if balance_gate(family=fam, now=NOW).blocked}
        bulk = {fam.pk: fam.due for fam in blocked_families(company=world.company_a, now=NOW)}
        assert set(bulk) == one_by_one == {owes.student.family_id, paid_part.student.family_id}
        assert bulk[paid_part.student.family_id] == Decimal("15.00")


# --- partner invitations ----------------------------------------------------------------


def test_day_2_partner_invitations_appear_for_owners_until_answered(world, login):
    with scopes_disabled():
        link = link_invite(
            company=world.company_b,
            email=world.company_a.contact_email,
            actor=world.owner_b,
            now=NOW,
        )
    response = _page(login(world.owner_a))
    assert _due(response)["partner_invitations"] == 1
    item = next(i for i in response.context["due"] if i.key == "partner_invitations")
    assert item.url == reverse("manage:franchise") + "#incoming-heading"
    # The inviting side has nothing to answer; admins can't open the partners page.
    assert "partner_invitations" in _done(_page(login(world.owner_b)))
    admin_page = _page(login(world.admin_a))
    assert "partner_invitations" not in _due(admin_page) | dict.fromkeys(_done(admin_page), 0)

    with scopes_disabled():
        link_approve(link=link, company=world.company_a, actor=world.owner_a, now=NOW)
    assert "partner_invitations" in _done(_page(login(world.owner_a)))


# --- the page as a whole --------------------------------------------------------------------


def _everything_due(world, company):
    """One of each item due in ``company``: a started session without its roll call, an open
    claim, a flagged correction, an expiring credit, a watched full session, a blocked family
    and (from the other company) a partner invitation."""
    _gate_on(company)
    guardian = f.GuardianFactory(family__company=company)
    klass = f.ClassFactory(programme__company=company, name=f"{company.name} class")
    enrolment = f.EnrolmentFactory(klass=klass, student__family=guardian.family)
    _today_session(klass, time(9, 0))
    missed = f.SessionFactory(klass=klass, local_date=date(2026, 11, 17))
    with time_machine.travel(NOW, tick=False), scope(company=company):
        attendance = attendance_set_state(
            enrolment=enrolment, session=missed, state=S.NO_SHOW, now=NOW
        )
        claim_submit(attendance=attendance, guardian_user=f.parent_of(enrolment), now=NOW)
        _flagged_decision(company, enrolment)
        credit = credit_add_manual(
            enrolment=enrolment, reason="t", actor=None, valid_days=3, now=NOW
        )
        SessionWatch.objects.create(
            company=company,
            session=f.SessionFactory(klass=klass, local_date=date(2026, 11, 24)),
            student=enrolment.student,
            credit=credit,
            created_at=NOW,
        )
        _owe(enrolment, TODAY - timedelta(days=1))
    other = world.company_a if company == world.company_b else world.company_b
    with scopes_disabled():
        link_invite(
            company=other,
            email=company.contact_email,
            actor=f.MembershipFactory(company=other, role="owner").user,
            now=NOW,
        )


ALL_ITEMS = {
    "roll_call",
    "open_claims",
    "flagged_decisions",
    "expiring_credits",
    "watched_sessions",
    "blocked_families",
    "partner_invitations",
}


def test_day_2_ten_1_another_companys_work_is_never_counted(world, login):
    _everything_due(world, world.company_b)
    response = _page(login(world.owner_a))
    assert _due(response) == {}
    assert _sessions(response) == []
    assert "All clear" in response.content.decode()

    response = _page(login(world.owner_b))
    assert set(_due(response)) == ALL_ITEMS
    assert all(count == 1 for count in _due(response).values())


def test_day_2_staff_and_admins_see_what_they_can_act_on(world, login):
    _everything_due(world, world.company_a)
    assert set(_due(_page(login(world.owner_a)))) == ALL_ITEMS
    assert set(_due(_page(login(world.admin_a)))) == ALL_ITEMS - {"partner_invitations"}
    staff = _page(login(world.staff_a))
    assert set(_due(staff)) == ALL_ITEMS - {"partner_invitations", "flagged_decisions"}
    # The most urgent first: the roll call that should already be taken.
    assert staff.context["due"][0].key == "roll_call"
    content = staff.content.decode()
    for item in staff.context["due"]:
        assert f'href="{item.url}"' in content.replace("&amp;", "&")


def test_day_2_all_clear_when_nothing_needs_doing(world, login):
    response = _page(login(world.staff_a))
    assert _due(response) == {}
    content = response.content.decode()
    assert "All clear: nothing needs doing right now." in content
    assert "No sessions today" in content


def test_day_2_fixed_queries_for_1_or_50_sessions_today(world, login, page_queries):
    _everything_due(world, world.company_a)
    client = login(world.owner_a)
    klass = f.ClassFactory(programme__company=world.company_a, instructor=world.staff_a)
    _today_session(klass, time(6, 0))
    one, _ = page_queries(client, DASHBOARD)

    programme = klass.programme
    for i in range(49):
        other = f.ClassFactory(programme=programme, instructor=world.admin_a if i % 2 else None)
        session = _today_session(other, time(6 + i // 4, (i % 4) * 15))
        enrolled = f.EnrolmentFactory(klass=other)
        if i % 3 == 0:
            f.AttendanceFactory(enrolment=enrolled, session=session, state=S.PRESENT)
    fifty, response = page_queries(client, DASHBOARD)
    assert len(_sessions(response)) == 51  # the claim's class has one today too
    assert fifty == one, (one, fifty)
