"""Demo make-ups (makeups part of ``seed_demo``, after the credits): the demo parent's family
(the Parkers: Mia and Noah) gets what every part of the portal and the staff pages show — an
available credit for each child, an upcoming make-up booked with a note, and a watched full
session (filled, if none is full, with other families' make-ups, which then show as guests
on the attendance view); a family whose unpaid balance holds its bookings (BAL-3); and a
"Pool maintenance" closure next week, already applied: its lessons cancelled and their
credits issued (CLO-3). All through the services, and safe to run again."""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from django_scopes import scope

from bookings.models import Charge, Enrolment, Family, Guardian, MakeupBooking, Package, Payment
from bookings.services import package_sell
from bookings.services.account import payment_record
from credits.models import CreditState, MakeupCredit, SessionWatch
from credits.services import credit_add_manual
from makeup.demo import DEMO_PASSWORD
from makeup.errors import DomainError
from makeup.models import CompanySettings, User
from makeup.services import company_settings_update
from programmes.models import Closure, ClosureCredits, ClosureRun, Session, age_in_months
from programmes.services import closure_create

from .selectors.eligibility import evaluate, makeup_candidates, with_occupancy
from .services import closure_apply_request, closure_run_execute, makeup_book, watch_create

MAX_FILLERS = 12
BLOCKED_PARENT = "blocked@riverside.example"
MAINTENANCE = "Pool maintenance"
MAINTENANCE_POOL = "Main pool"
#: The maintenance day: the first weekday this many days ahead (company's zone) with lessons.
MAINTENANCE_DAYS_AHEAD = range(7, 14)


def seed(ctx) -> None:
    riverside = ctx.companies["riverside"]
    with scope(company=riverside):
        _money(riverside, ctx)
        parent = ctx.users["parent@riverside.example"]
        family = Family.objects.filter(company=riverside, guardians__user=parent).first()
        if family is not None:
            _parker_makeups(
                family,
                parent=parent,
                admin=ctx.users["admin@riverside.example"],
                staff=ctx.users["staff@riverside.example"],
            )
        _pool_maintenance(riverside, admin=ctx.users["admin@riverside.example"])
    # WAL-5: Lakeside offers a freed place to the first watcher for 12 hours (nights not
    # counted) instead of booking it straight away, as Riverside does.
    lakeside = ctx.companies["lakeside"]
    with scope(company=lakeside):
        company_settings_update(
            company=lakeside,
            now=timezone.now(),
            actor=ctx.users["owner@lakeside.example"],
            watch_mode=CompanySettings.WatchMode.OFFER,
            watch_offer_hours=12,
        )


def _usable(enrolment_ids, now):
    return (
        MakeupCredit.objects.filter(enrolment_id__in=enrolment_ids, state=CreditState.AVAILABLE)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .select_related("enrolment__student", "enrolment__klass__programme")
        .order_by("expires_at", "pk")
    )


def _manual(enrolment, reason: str, actor, now) -> MakeupCredit:
    """The enrolment's manual credit with ``reason``, added once."""
    existing = MakeupCredit.objects.filter(enrolment=enrolment, reason=reason).first()
    return existing or credit_add_manual(
        enrolment=enrolment, reason=reason, actor=actor, valid_days=45, now=now
    )


def _parker_makeups(family, *, parent, admin, staff) -> None:
    now = timezone.now()
    soon = now + timedelta(days=2)
    enrolments = {}
    for enrolment in (
        Enrolment.objects.filter(student__family=family, withdrawn_from__isnull=True)
        .select_related("student", "klass__programme")
        .order_by("student__first_name", "pk")
    ):
        enrolments.setdefault(enrolment.student_id, enrolment)
    # Every child holds an available credit.
    for enrolment in enrolments.values():
        if not _usable([enrolment.pk], now).exists():
            _manual(enrolment, "Missed lesson: school swimming carnival", admin, now)
    # An upcoming make-up, booked by the parent with a note.
    if not MakeupBooking.objects.filter(student__family=family).exists():
        for enrolment in enrolments.values():
            probe = _usable([enrolment.pk], now).first()
            target = probe and next(
                (
                    c.session
                    for c in makeup_candidates(credit=probe, now=now)
                    if c.bookable and c.session.starts_at >= soon
                ),
                None,
            )
            if not target:
                continue
            credit = _manual(enrolment, "Missed lesson: family holiday", admin, now)
            try:
                makeup_book(
                    credit=credit,
                    session=target,
                    actor=parent,
                    note="Make-up for the lesson missed on the family holiday",
                    now=now,
                )
            except DomainError:
                continue
            break
    # A watched full session.
    if not SessionWatch.objects.filter(student__family=family).exists():
        booked = set(
            MakeupBooking.objects.filter(student__family=family).values_list(
                "session_id", flat=True
            )
        )
        for enrolment in enrolments.values():
            credit = _usable([enrolment.pk], now).first()
            if credit is None:
                continue
            candidates = [
                c
                for c in makeup_candidates(credit=credit, now=now)
                if c.session.starts_at >= soon + timedelta(days=1) and c.session.pk not in booked
            ]
            full = next((c.session for c in candidates if c.only_full), None)
            if full is None:
                open_ = sorted((c for c in candidates if c.bookable), key=lambda c: c.places_left)
                if open_ and _fill(open_[0], family=family, staff=staff, admin=admin, now=now):
                    full = open_[0].session
            if full is not None:
                watch_create(credit=credit, session=full, actor=parent, now=now)
                break


def _pool_maintenance(company, *, admin) -> None:
    """CLO-3: Riverside closes its main pool for a day next week and has applied the closure:
    the day's lessons there are cancelled and their students hold credits by each
    programme's policy. Run inline (the demo runs its tasks inline); one such closure, found
    again by its name: a second seed applies it only if it is not applied yet."""
    closure = (
        Closure.objects.filter(company=company, name=MAINTENANCE, removed_at__isnull=True)
        .order_by("pk")
        .first()
    )
    if closure is None:
        day = _maintenance_day(company)
        if day is None:
            return
        closure = closure_create(
            company=company,
            name=MAINTENANCE,
            first_day=day,
            last_day=day,
            locations=[MAINTENANCE_POOL],
            credits=ClosureCredits.POLICY,
            actor=admin,
            now=timezone.now(),
        )
    if closure.applied_at is not None:
        return
    run = (
        ClosureRun.objects.filter(
            closure=closure, state__in=(ClosureRun.State.QUEUED, ClosureRun.State.RUNNING)
        )
        .order_by("-pk")
        .first()
    ) or closure_apply_request(closure=closure, actor=admin, now=timezone.now())
    closure_run_execute(run=run, clock=timezone.now)


def _maintenance_day(company):
    """The first weekday 7 to 13 days ahead with main-pool lessons that have students, and
    preferably none of the demo's make-ups or watches (so the Parkers' booked make-up and
    watched lesson stay as they are); None if no day has such lessons."""
    today = timezone.localdate(timezone=company.tzinfo)
    days = [
        today + timedelta(days=n)
        for n in MAINTENANCE_DAYS_AHEAD
        if (today + timedelta(days=n)).weekday() < 5
    ]
    with_lessons = [
        day
        for day in days
        if Session.objects.filter(
            company=company,
            local_date=day,
            cancelled_at__isnull=True,
            klass__location=MAINTENANCE_POOL,
            klass__enrolments__start_date__lte=day,
        )
        .filter(
            Q(klass__enrolments__withdrawn_from__isnull=True)
            | Q(klass__enrolments__withdrawn_from__gt=day)
        )
        .exists()
    ]
    busy = set(
        MakeupBooking.objects.filter(
            company=company, session__local_date__in=days, state=MakeupBooking.State.BOOKED
        ).values_list("session__local_date", flat=True)
    ) | set(
        SessionWatch.objects.filter(
            company=company, session__local_date__in=days, state=SessionWatch.State.ACTIVE
        ).values_list("session__local_date", flat=True)
    )
    quiet = [day for day in with_lessons if day not in busy]
    return (quiet or with_lessons or [None])[0]


def _fill(candidate, *, family, staff, admin, now) -> bool:
    """Book other families' children of the same programme into the session until it is
    full, if enough of them fit its age range (nothing is booked otherwise)."""
    session = candidate.session
    klass = session.klass
    lo, hi = klass.min_age_months, klass.max_age_months
    fillers = [
        e
        for e in Enrolment.objects.filter(
            klass__programme_id=klass.programme_id, withdrawn_from__isnull=True
        )
        .exclude(student__family=family)
        .exclude(klass=klass)
        .select_related("student")
        .order_by("pk")[: MAX_FILLERS * 3]
        if (lo is None or age_in_months(e.student.date_of_birth, session.local_date) >= lo)
        and (hi is None or age_in_months(e.student.date_of_birth, session.local_date) <= hi)
    ]
    if len(fillers) < candidate.places_left or candidate.places_left > MAX_FILLERS:
        return False
    left = candidate.places_left
    for enrolment in fillers:
        if left == 0:
            break
        credit = _usable([enrolment.pk], now).first() or _manual(
            enrolment, "Missed lesson: school swimming carnival", admin, now
        )
        fresh = with_occupancy(Session.objects.filter(pk=session.pk), now=now).get()
        check = evaluate(student=enrolment.student, credit=credit, sessions=[fresh], now=now)[0]
        if not check.bookable:
            continue
        try:
            makeup_book(
                credit=credit,
                session=session,
                actor=staff,
                source=MakeupBooking.Source.STAFF,
                note="Make-up booked at the front desk",
                now=now,
            )
        except DomainError:
            continue
        left -= 1
    return left == 0


def _money(riverside, ctx) -> None:
    """BAL demo: Riverside checks balances (30 days) and takes payments in the portal. Every
    family has paid what its lessons were charged except one, whose parent gets a login
    (blocked@riverside.example) and has a credit with a bookable make-up, so the portal
    sends them to pay first. Parker's family also holds a package."""

    ctx.logins.append((BLOCKED_PARENT, "Parent with an unpaid balance, Riverside portal"))
    company_settings_update(
        now=timezone.now(),
        company=riverside,
        balance_gate_enabled=True,
        balance_gate_days=30,
        portal_payments_enabled=True,
    )
    if Payment.objects.filter(company=riverside).exists():
        return
    today = timezone.localdate(timezone=riverside.tzinfo)
    blocked = _blocked_family(riverside)
    totals: dict[int, Decimal] = {}
    for charge in Charge.objects.filter(company=riverside, reversed_at__isnull=True):
        totals[charge.family_id] = totals.get(charge.family_id, Decimal("0")) + charge.amount
    for family_id, total in sorted(totals.items()):
        if blocked is None or family_id != blocked.pk:
            payment_record(
                family=Family.objects.get(pk=family_id),
                amount=total,
                method="card",
                paid_on=today,
                reference="Term fees",
            )
    parker = Family.objects.filter(
        company=riverside, guardians__user=ctx.users["parent@riverside.example"]
    ).first()
    enrolment = (
        Enrolment.objects.filter(student__family=parker)
        .select_related("klass__programme")
        .order_by("pk")
        .first()
    )
    if enrolment is not None and not Package.objects.filter(family=parker).exists():
        package_sell(
            family=parker,
            programme=enrolment.klass.programme,
            sessions=10,
            price=Decimal("240.00"),
            purchased_on=today,
            valid_until=today + timedelta(days=120),
            note="Summer block",
        )


def _blocked_family(riverside):
    """A demo family without a login whose credit has a bookable make-up gets one."""

    now = timezone.now()
    credits = (
        MakeupCredit.objects.filter(
            company=riverside, state=CreditState.AVAILABLE, expires_at__gt=now + timedelta(days=7)
        )
        .exclude(enrolment__student__family__guardians__user__isnull=False)
        .select_related("enrolment__student__family", "enrolment__klass__programme")
        .order_by("pk")
    )
    for credit in credits[:40]:
        if not any(
            c.bookable for c in makeup_candidates(credit=credit, now=now, offered_only=True)
        ):
            continue
        family = credit.enrolment.student.family
        guardian = Guardian.objects.filter(family=family).order_by("pk").first()
        user = User.objects.create_user(
            email=BLOCKED_PARENT,
            password=DEMO_PASSWORD,
            full_name=guardian.full_name,
            email_confirmed_at=now,
        )
        guardian.user = user
        guardian.save(update_fields=["user"])
        return family
    return None
