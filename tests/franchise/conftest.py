"""Helpers of the franchise tests: an approved link made through the services, and make-up
booking rows between two companies (made directly: the report only reads them)."""

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from bookings.models import MakeupBooking
from franchise.services import link_approve, link_invite
from makeup.models import Membership, Role
from tests import factories as f


def owner_of(company):
    membership = Membership.objects.filter(company=company, role=Role.OWNER).first()
    if membership is None:
        membership = f.MembershipFactory(company=company, role=Role.OWNER)
    return membership.user


def link_companies(inviter, invitee):
    """``inviter`` invites ``invitee`` by its contact e-mail and ``invitee`` approves."""
    link = link_invite(
        now=timezone.now(), company=inviter, email=invitee.contact_email, actor=owner_of(inviter)
    )
    return link_approve(now=timezone.now(), link=link, company=invitee, actor=owner_of(invitee))


def makeup_booking(
    *,
    host,
    home,
    day: date = date(2026, 11, 24),
    price: Decimal | None = Decimal("25.00"),
    state: str = "booked",
    attendance: str = "expected",
    student_name: str = "Ava",
):
    session = f.SessionFactory(
        klass__programme__company=host, klass__price_per_session=price, local_date=day
    )
    enrolment = f.EnrolmentFactory(klass__programme__company=home, student__first_name=student_name)
    return MakeupBooking.objects.create(
        company=host,
        home_company=home,
        session=session,
        student=enrolment.student,
        enrolment=enrolment,
        state=state,
        attendance_state=attendance,
        source="staff",
        booked_at=session.starts_at - timedelta(days=2),
    )
