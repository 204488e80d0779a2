"""Lesson reminders (issue 9): the day before each make-up (and each regular lesson when the
company turns it on) the family is e-mailed once, with a one-click "can't come" link that
runs the normal client cancellation."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core import mail
from django.test import TestCase
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from bookings.models import Attendance, AttendanceState, LessonReminder, MakeupBooking
from credits.models import CreditState, MakeupCredit
from credits.services.reminders import lessons_claim_reminders
from credits.tasks import send_lesson_reminders
from makeups.services import makeup_book
from tests import factories as f

from .conftest import NOW

SYDNEY = ZoneInfo("Australia/Sydney")
LINK = re.compile(r"/portal/alpha/cant-come/[^/\s\"]+/")


def _sydney(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SYDNEY)


def _send(frozen, when: datetime) -> list:
    frozen.move_to(when)
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):  # the outbox hands over on commit
        send_lesson_reminders()
    return list(mail.outbox)


def _book(pf) -> MakeupBooking:
    with scope(company=pf.company):
        return makeup_book(
            credit=pf.credit, actor=f.parent_of(pf.credit), session=pf.session, now=NOW
        )


def test_a_makeup_is_reminded_the_day_before_from_nine_once(pf, frozen):
    _book(pf)  # Host Sharks, Wed 25 Nov 16:00
    assert _send(frozen, _sydney(24, 8, 59)) == []  # too early
    sent = _send(frozen, _sydney(24, 9, 0))
    assert len(sent) == 1
    assert sent[0].to == [pf.guardian.email]
    assert sent[0].subject == "Tomorrow: Ava's make-up lesson at 16:00"
    assert "Host Sharks" in sent[0].body and LINK.search(sent[0].body)
    assert _send(frozen, _sydney(24, 10, 0)) == []  # once only
    with scopes_disabled():
        assert LessonReminder.objects.filter(student=pf.ava.student).count() == 1


def test_a_rerun_or_an_overlapping_run_claims_nothing_twice(pf, frozen):
    _book(pf)
    frozen.move_to(_sydney(24, 12))
    first = lessons_claim_reminders(now=timezone.now())
    second = lessons_claim_reminders(now=timezone.now())
    assert len(first) == 1 and second == []


def test_regular_lessons_only_when_the_company_turns_them_on(pf, frozen):
    # Ava's own lesson: Tue 24 Nov 17:00.
    assert _send(frozen, _sydney(23, 10)) == []
    pf.company.settings.regular_lesson_reminders = True
    pf.company.settings.save()
    sent = _send(frozen, _sydney(23, 11))
    assert [m.subject for m in sent] == ["Tomorrow: Ava's lesson at 17:00"]
    assert "Home Dolphins" in sent[0].body


def test_a_lesson_already_cancelled_is_not_reminded(pf, frozen, login):
    pf.company.settings.regular_lesson_reminders = True
    pf.company.settings.save()
    client = login(pf.user)
    client.post(f"/portal/alpha/lessons/{pf.ava.pk}/{pf.lesson.pk}/cancel/")
    assert _send(frozen, _sydney(23, 11)) == []


def test_cant_come_runs_the_normal_client_cancellation(pf, frozen, client):
    pf.company.settings.regular_lesson_reminders = True
    pf.company.settings.save()
    link = LINK.search(_send(frozen, _sydney(23, 11))[0].body).group(0)
    page = client.get(link)  # no login: the signed link is the authority
    assert page.status_code == 200 and ">Can't come</button>" in page.content.decode()
    with scopes_disabled():
        assert not Attendance.objects.filter(session=pf.lesson).exists()  # a GET changes nothing
    done = client.post(link)
    assert "cancelled" in done.content.decode().lower()
    with scopes_disabled():
        attendance = Attendance.objects.get(session=pf.lesson, enrolment=pf.ava)
    assert attendance.state == AttendanceState.CANCELLED  # on time: a day ahead
    assert attendance.cancelled_at == _sydney(23, 11)
    again = client.post(link)
    assert "already marked" in again.content.decode()


def test_cant_come_for_a_makeup_gives_the_credit_back(pf, frozen, login):
    booking = _book(pf)
    link = LINK.search(_send(frozen, _sydney(24, 9))[0].body).group(0)
    response = login(pf.user).post(link)
    assert response.status_code == 302  # logged in: back home with the message
    with scopes_disabled():
        assert MakeupBooking.objects.get(pk=booking.pk).state == MakeupBooking.State.CANCELLED
        assert MakeupCredit.objects.get(pk=pf.credit.pk).state == CreditState.AVAILABLE


def test_a_tampered_or_foreign_link_is_404(pf, frozen, client, world):
    _book(pf)
    link = LINK.search(_send(frozen, _sydney(24, 9))[0].body).group(0)
    assert client.get(link[:-3] + "xx/").status_code == 404
    other = link.replace("/portal/alpha/", f"/portal/{world.company_b.slug}/")
    assert client.get(other).status_code == 404
    frozen.move_to(pf.session.starts_at + timedelta(minutes=1))
    assert "already started" in client.get(link).content.decode()
