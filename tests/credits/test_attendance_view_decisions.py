"""POL-9: the attendance view answers "they cancelled, why is there no credit?"."""

from datetime import UTC, datetime

import pytest
import time_machine

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_pol_9_attendance_view_shows_each_cancelled_students_decision(world, login):
    klass = f.ClassFactory(programme__company=world.company_a)
    session = f.SessionFactory(klass=klass)  # Tue 24 Nov 2026 17:00 Sydney
    early, late = f.EnrolmentFactory(klass=klass), f.EnrolmentFactory(klass=klass)
    client = login(world.staff_a)
    with time_machine.travel(datetime(2026, 11, 24, 5, 0, tzinfo=UTC), tick=False):
        for enrolment, told in [(early, "2026-11-20T09:00"), (late, "2026-11-24T15:00")]:
            client.post(
                f"/manage/sessions/{session.pk}/attendance/{enrolment.pk}/",
                {"state": "client_cancelled", "cancelled_at": told},
            )
        html = client.get(f"/manage/sessions/{session.pk}/").content.decode()
    assert "Credit issued (client cancelled on time), valid until 20 Dec 2026, 09:00." in html
    assert "No credit: cancelled after the cut-off (23 Nov 2026, 17:00)." in html
