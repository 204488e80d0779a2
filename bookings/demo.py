"""Demo families, enrolments and attendance history (bookings part of ``seed_demo``).

Riverside gets 44 families with children of fitting ages, enrolled in the term's classes,
and attendance for every past session with every state — recorded through the same
services staff use, so the history and decisions are real.
"""

import random
from datetime import date, timedelta

from django.utils import timezone
from django_scopes import scope

from makeup.errors import DomainError
from programmes.models import Class, Session, age_in_months

from .models import Attendance, AttendanceState, Family, Guardian, Student
from .selectors import expected_enrolments
from .services import attendance_set_state, enrolment_create, session_cancel

SURNAMES = [
    "Nguyen",
    "Smith",
    "Williams",
    "Brown",
    "Wilson",
    "Taylor",
    "Johnson",
    "White",
    "Martin",
    "Anderson",
    "Thompson",
    "Walker",
    "Harris",
    "Lee",
    "Ryan",
    "Robinson",
    "Kelly",
    "King",
    "Davis",
    "Wright",
    "Evans",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Patel",
    "Khan",
    "Lewis",
    "James",
    "Phillips",
    "Mitchell",
    "Turner",
    "Cooper",
    "Murphy",
    "Novak",
    "Dvořák",
    "Svoboda",
    "Chen",
    "Wang",
    "Singh",
    "Rossi",
    "Costa",
]
PARENTS = [
    "Sarah",
    "Michael",
    "Jessica",
    "David",
    "Emily",
    "Daniel",
    "Olivia",
    "James",
    "Sophie",
    "Thomas",
    "Chloe",
    "Matthew",
    "Hannah",
    "Andrew",
    "Grace",
    "Luke",
]
CHILDREN = [
    "Jack",
    "Charlotte",
    "Oliver",
    "Amelia",
    "William",
    "Isla",
    "Henry",
    "Ava",
    "Leo",
    "Mia",
    "Lucas",
    "Harper",
    "Thomas",
    "Ella",
    "Noah",
    "Zoe",
    "Archie",
    "Ruby",
    "Hudson",
    "Matilda",
    "Ethan",
    "Sienna",
    "Max",
    "Lily",
]


def _parker(company, parent) -> None:
    if Guardian.objects.filter(company=company, user=parent).exists():
        return
    family = Family.objects.create(company=company, name="Parker")
    Guardian.objects.create(
        company=company,
        family=family,
        user=parent,
        full_name=parent.full_name,
        email=parent.email,
        phone="0400 111 222",
    )
    Student.objects.create(
        company=company,
        family=family,
        first_name="Mia",
        last_name="Parker",
        date_of_birth=date(2018, 3, 14),
    )
    Student.objects.create(
        company=company,
        family=family,
        first_name="Noah",
        last_name="Parker",
        date_of_birth=date(2020, 9, 2),
    )


def _families(company, rng: random.Random, today: date) -> None:
    for n, surname in enumerate(SURNAMES):
        email = f"{surname.lower().replace('ř', 'r').replace('á', 'a')}.family{n}@example.com"
        if Guardian.objects.filter(company=company, email=email).exists():
            continue
        family = Family.objects.create(company=company, name=surname)
        Guardian.objects.create(
            company=company,
            family=family,
            email=email,
            full_name=f"{rng.choice(PARENTS)} {surname}",
            phone=f"04{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
        )
        for _ in range(rng.choice([1, 1, 2, 2, 3])):
            born = today - timedelta(days=rng.randint(int(3.2 * 365), int(11.5 * 365)))
            Student.objects.create(
                company=company,
                family=family,
                first_name=rng.choice(CHILDREN),
                last_name=surname,
                date_of_birth=born,
            )


def _enrol(company, classes: list[Class], term_start: date, rng: random.Random) -> None:
    for student in Student.objects.filter(company=company).order_by("pk"):
        if student.enrolments.exists():
            continue
        age = age_in_months(student.date_of_birth, term_start)
        fitting = [c for c in classes if c.min_age_months <= age <= c.max_age_months]
        rng.shuffle(fitting)
        for klass in fitting:
            try:
                enrolment_create(klass=klass, student=student, start_date=term_start)
            except DomainError:
                continue  # full: try the next fitting class
            break


def _attendance(company, classes: list[Class], rng: random.Random, now) -> None:
    staff = None
    past = (
        Session.objects.filter(klass__in=classes, starts_at__lt=now)
        .select_related("klass__programme", "company")
        .order_by("starts_at")
    )
    cancelled_one = False
    for session in past:
        if Attendance.objects.filter(session=session).exists():
            continue
        after = session.starts_at + timedelta(hours=1)
        if not cancelled_one and session.klass.name == "L2 Tuesday Dolphins":
            session_cancel(
                session=session,
                reason="Pool closed for maintenance",
                actor=staff,
                now=session.starts_at - timedelta(days=1),
            )
            cancelled_one = True
            continue
        for enrolment in expected_enrolments(session):
            roll = rng.random()
            if roll < 0.78:
                state, told = AttendanceState.PRESENT, None
            elif roll < 0.85:
                state, told = AttendanceState.CANCELLED, session.starts_at - timedelta(days=2)
            elif roll < 0.91:
                state, told = AttendanceState.CANCELLED, session.starts_at - timedelta(hours=3)
            else:
                state, told = AttendanceState.NO_SHOW, None
            attendance_set_state(
                enrolment=enrolment,
                session=session,
                state=state,
                cancelled_at=told,
                actor=staff,
                now=after,
            )


def seed(ctx) -> None:
    riverside = ctx.companies["riverside"]
    rng = random.Random(20261121)  # the same demo every time
    today = timezone.localdate(timezone=riverside.tzinfo)
    with scope(company=riverside):
        _parker(riverside, ctx.users["parent@riverside.example"])
        _families(riverside, rng, today)
        classes = list(
            Class.objects.filter(company=riverside, archived_at__isnull=True).order_by("pk")
        )
        term_start = ctx.extra.get("term", (today, today))[0]
        _enrol(riverside, classes, term_start, rng)
        _attendance(riverside, classes, rng, timezone.now())
