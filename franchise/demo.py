"""Demo data, franchise part: Riverside and Lakeside are linked partner branches (FRN-1).

Riverside invited Lakeside and Lakeside approved; both run SWIM-L2 and SWIM-L3 with the
"allow make-up sessions from other companies" switch on, so the demo parent (Riverside)
sees Lakeside's sessions in the portal's make-up search (FRN-6). Lakeside takes at most
two Riverside guests per session, booked up to 28 days ahead (FRN-3). One Riverside child
already has a make-up booked at Lakeside, so Lakeside's attendance view shows a guest and
the partner report has a line on both sides (FRN-7, FRN-8).
"""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from bookings.models import Enrolment, MakeupBooking
from credits.services import credit_add_manual
from makeups.services import makeup_book
from programmes.models import Class, Programme, age_in_months

from .models import CompanyLink, IncomingRestriction
from .selectors.partners import partner_candidates
from .services import link_approve, link_invite, restriction_update

SHARED_CODES = ("SWIM-L2", "SWIM-L3")


def seed(ctx) -> None:
    riverside, lakeside = ctx.companies["riverside"], ctx.companies["lakeside"]
    owner_r = ctx.users["owner@riverside.example"]
    owner_l = ctx.users["owner@lakeside.example"]
    now = timezone.now()
    for company in (riverside, lakeside):
        with scope(company=company):
            for programme in Programme.objects.filter(code__in=SHARED_CODES):
                if not programme.accept_partner_makeups:
                    programme.accept_partner_makeups = True
                    programme.save(update_fields=["accept_partner_makeups"])
    link = CompanyLink.objects.filter(
        Q(inviter=riverside, invitee=lakeside) | Q(inviter=lakeside, invitee=riverside),
        state__in=[CompanyLink.State.PENDING, CompanyLink.State.APPROVED],
    ).first()
    if link is None:
        link = link_invite(
            company=riverside,
            email=lakeside.contact_email,
            message="Let's share make-up places between our pools.",
            actor=owner_r,
            now=now - timedelta(days=20),
        )
    if link.state == CompanyLink.State.PENDING:
        link_approve(link=link, company=lakeside, actor=owner_l, now=now - timedelta(days=19))
    with scope(company=lakeside):
        if not IncomingRestriction.objects.filter(partner=riverside).exists():
            restriction_update(
                now=timezone.now(),
                company=lakeside,
                partner=riverside,
                programme_ids=[],
                max_guests_per_session=2,
                max_days_ahead=28,
                actor=owner_l,
            )
    _guest_at_lakeside(riverside, lakeside, ctx, now)


def _guest_at_lakeside(riverside, lakeside, ctx, now) -> None:
    """One Riverside child (not the demo parent's) booked into a Lakeside session that fits
    their age, with a credit the school gave for a closed pool."""
    with scopes_disabled():
        if MakeupBooking.objects.filter(company=lakeside, home_company=riverside).exists():
            return
        hosts = list(
            Class.objects.filter(
                company=lakeside,
                programme__code__in=SHARED_CODES,
                allow_makeups=True,
                price_per_session__isnull=False,
            ).select_related("programme")
        )
    parent = ctx.users["parent@riverside.example"]
    admin = ctx.users["admin@riverside.example"]
    today = timezone.localdate(now, timezone=riverside.tzinfo)
    with scope(company=riverside):
        enrolments = (
            Enrolment.objects.filter(klass__programme__code__in=SHARED_CODES)
            .exclude(student__family__guardians__user=parent)
            .select_related("student", "klass__programme")
            .order_by("pk")
        )
        for enrolment in enrolments:
            age = age_in_months(enrolment.student.date_of_birth, today + timedelta(days=7))
            if not any(
                k.programme.code == enrolment.klass.programme.code
                and (k.min_age_months or 0) + 1 <= age <= (k.max_age_months or 999) - 1
                for k in hosts
            ):
                continue
            credit = credit_add_manual(
                enrolment=enrolment,
                reason="Riverside's pool was closed for maintenance",
                actor=admin,
                valid_days=30,
                now=now,
            )
            offered = partner_candidates(credit=credit, now=now, offered_only=True, limit=10)
            bookable = [c for c in offered if c.bookable]
            if bookable:
                makeup_book(
                    credit=credit,
                    session=bookable[0].session,
                    actor=admin,
                    source=MakeupBooking.Source.STAFF,
                    note="Make-up at Lakeside while Riverside's pool is closed",
                    now=now,
                )
            return
