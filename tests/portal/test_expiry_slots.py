"""BEY-3: the "expiring soon" e-mail lists up to three bookable sessions, each a signed,
single-use link to the booking confirmation (login still required); a slot that filled
meanwhile says so and shows the next ones; an expired credit's links say so."""

import re
from datetime import date, time, timedelta

from django.core import mail
from django.test import TestCase
from django_scopes import scope

from credits.tasks import send_expiry_reminder
from makeups.services import makeup_cancel
from tests import factories as f

from .conftest import NOW

LINK = re.compile(r"/portal/alpha/makeups/slot/[^/\s\"]+/")


def _remind(pf) -> list[str]:
    """Send the reminder for Ava's credit; the slot links in the text part, in order."""
    mail.outbox.clear()
    # The task tells the family (NTF-1); the e-mail leaves after the commit (the outbox).
    with TestCase.captureOnCommitCallbacks(execute=True):
        send_expiry_reminder.delay(pf.company.pk, pf.credit.pk)
    assert len(mail.outbox) == 1
    return LINK.findall(mail.outbox[0].body)


def _more_sessions(pf, n):
    return [
        f.SessionFactory(
            klass=pf.host, local_date=pf.session.local_date + timedelta(days=d), local_time=time(16)
        )
        for d in range(1, n + 1)
    ]


def test_bey_3_the_reminder_lists_the_three_soonest_bookable_sessions(pf):
    later = _more_sessions(pf, 4)
    links = _remind(pf)
    body = mail.outbox[0].body
    assert len(links) == 3
    assert "Host Sharks" in body and "Little Starfish" not in body  # Ava is too old (MKP-2)
    assert "Wed 25 Nov, 16:00" in body and "Thu 26 Nov, 16:00" in body
    assert "Fri 27 Nov, 16:00" in body and "Sat 28 Nov" not in body
    assert "2 places left" in body and "Each link works once" in body
    html = mail.outbox[0].alternatives[0][0]
    assert all(link in html for link in links)
    assert later  # four were offered, three listed


def test_bey_3_no_bookable_session_says_where_to_look(pf):
    pf.host.allow_makeups = False
    pf.host.save()
    assert _remind(pf) == []
    assert "Find a session in the portal" in mail.outbox[0].body


def test_bey_3_a_link_needs_a_login_then_opens_the_confirmation(pf, client, login):
    link = _remind(pf)[0]
    anonymous = client.get(link)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    response = login(pf.user).get(link)
    assert response.status_code == 302
    assert response["Location"] == f"/portal/alpha/makeups/book/{pf.credit.pk}/{pf.session.pk}/"


def test_bey_3_a_link_is_single_use(pf, login):
    _more_sessions(pf, 2)
    first, second, _ = _remind(pf)
    client = login(pf.user)
    confirm = client.get(first)["Location"]
    assert client.post(confirm, {"note": ""}).status_code == 302  # booked with the credit
    for link in (first, second):
        used = client.get(link)
        assert used.status_code == 410
        assert "already been used" in used.content.decode()
    # Cancelled in time, the credit comes back: the old links still don't work.
    with scope(company=pf.company):
        booking = pf.credit.__class__.objects.get(pk=pf.credit.pk).booking
        assert makeup_cancel(booking=booking, now=NOW).credit_returned
    assert client.get(first).status_code == 410


def test_bey_3_a_slot_that_filled_meanwhile_says_so_and_shows_the_next(pf, login):
    seals = f.ClassFactory(
        programme=pf.programme, name="Other Seals", min_age_months=60, max_age_months=120
    )
    nxt = f.SessionFactory(klass=seals, local_date=date(2026, 11, 27), local_time=time(9))
    link = _remind(pf)[0]  # the soonest: Host Sharks on Wed 25 Nov
    f.EnrolmentFactory.create_batch(2, klass=pf.host, student__date_of_birth=date(2019, 1, 1))
    response = login(pf.user).get(link)
    html = response.content.decode()
    assert response.status_code == 200
    assert "filled up after we sent the e-mail" in html and "Host Sharks" in html
    assert "These sessions still have room" in html and "Other Seals" in html
    assert f"/portal/alpha/makeups/book/{pf.credit.pk}/{nxt.pk}/" in html
    assert f"/portal/alpha/makeups/book/{pf.credit.pk}/{pf.session.pk}/" not in html


def test_bey_3_an_expired_credits_link_says_so(pf, login, frozen):
    link = _remind(pf)[0]
    frozen.move_to(pf.credit.expires_at + timedelta(minutes=1))
    response = login(pf.user).get(link)
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_bey_3_another_familys_or_a_tampered_link_is_404(pf, login):
    link = _remind(pf)[0]
    stranger = f.GuardianFactory(family__company=pf.company)
    assert login(stranger.user).get(link).status_code == 404
    assert login(pf.user).get(link[:-3] + "xx/").status_code == 404
