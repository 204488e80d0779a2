"""Build a large, realistic set of tenants for load tests (issue 8), with bulk inserts.

    DATABASE_URL=postgres://…/scratch manage.py generate_load_data            # full size
    manage.py generate_load_data --scale 0.01                                 # tiny
    manage.py generate_load_data --scale 0.1 --reset                          # replace

At ``--scale 1``: 20 companies (slugs ``<prefix>-01`` …), 100 programmes, 2,000 classes,
40,000 sessions (12 past and 8 coming weekly lessons a class), 15,000 families with a
guardian each (every fifth with a portal login ``<prefix>-parent-<n>@example.com``) and a
second guardian in every third, ~22,500 students with one enrolment each, ~200,000 attendance
rows on past sessions (present, on-time and late client cancellations with their
``cancelled_at``, no-shows, staff cancellations), 100,000 credits (on-time and staff-path
credits for those attendances, the rest added manually; available, expired, used) each with
its history from "issued", and ~2,000 make-up bookings in coming sessions with room (their
credits used; every fifth one cancelled again and its credit returned). One staff login per
company, ``<prefix>-staff-<n>@example.com``. Everyone's password is printed at the end.

Every row goes in with ``bulk_create`` (no services, no signals), so the rows the services
would add around a change (attendance changes, credit decisions) are not written; what the
invariants check (``manage.py check_invariants``) holds. ``--reset`` deletes the companies
with the prefix and their users first.
"""

import random
import time
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import ForeignKey
from django.utils import timezone
from django_scopes import scopes_disabled

from bookings.models import (
    Attendance,
    AttendanceState,
    Enrolment,
    Family,
    Guardian,
    MakeupBooking,
    Student,
)
from bookings.services.places import recount_places
from credits.models import (
    CancellationPolicy,
    CreditEvent,
    CreditPath,
    CreditState,
    MakeupCredit,
)
from makeup.models import Company, Membership, Role, User
from makeup.services import company_create
from programmes.models import Class, ClassSchedule, Programme, Session

PASSWORD = "load-test-password"  # noqa: S105 - printed on purpose: throw-away test logins
TIMEZONE = "Australia/Sydney"
BATCH = 5000

# Sizes at --scale 1.
COMPANIES = 20
PROGRAMMES_PER_COMPANY = 5
CLASSES = 2_000
SESSIONS_PER_CLASS = 20  # 40,000 sessions
PAST_WEEKS = 12
FAMILIES = 15_000
ATTENDANCES = 200_000
CREDITS = 100_000
BOOKING_SHARE = 0.02  # of the credits
LOGIN_EVERY = 5  # every fifth family's first guardian has a login
CAPACITY = 14
MAX_REGULARS = 12

# Attendance states of past lessons: (state, weight, cancelled how long before the start).
STATES = (
    (AttendanceState.PRESENT, 75, None),
    (AttendanceState.CANCELLED, 10, timedelta(days=2)),
    (AttendanceState.LATE_CANCELLED, 5, timedelta(hours=3)),
    (AttendanceState.NO_SHOW, 6, None),
    (AttendanceState.STAFF_CANCELLED, 4, None),
)
VALIDITY = timedelta(days=30)  # the default policy's, for every path

# Names for families, parents and children (Czech with accents and English), so the back
# office's search (DAY-3, bench_search) meets realistic names: many families per surname.
SURNAMES = (  # noqa: SIM905 - a list of names reads best as text
    "Novák Svoboda Novotný Dvořák Černý Procházka Kučera Veselý Horák Němec Marek Pospíšil "
    "Hájek Jelínek Král Růžička Beneš Fiala Sedláček Doležal Zeman Kolář Navrátil Čermák "
    "Smith Jones Williams Brown Taylor Wilson Davies Evans Thomas Johnson Roberts Walker "
    "Wright Robinson Thompson White Hughes Edwards Green Hall Wood Harris Lewis Martin"
).split()
FIRST_NAMES = (  # noqa: SIM905 - a list of names reads best as text
    "Jan Jiří Petr Josef Pavel Tomáš Martin Jana Eva Hana Lucie Kateřina Tereza Markéta "
    "John David Michael James Sarah Emma Olivia Sophie Chloé Zoë Anežka Šárka Žofie Václav"
).split()
CHILD_NAMES = (  # noqa: SIM905 - a list of names reads best as text
    "Adam Jakub Matyáš Vojtěch Ondřej Eliška Anna Adéla Natálie Viktorie Ella Ava Mia Noah "
    "Oliver Leo Jack Charlie Isla Amélie Štěpán Kryštof Barbora Klára"
).split()


def sized(full: int, scale: float, minimum: int = 1) -> int:
    return max(minimum, round(full * scale))


class Command(BaseCommand):
    help = "Build a large load-test data set with bulk inserts (PostgreSQL; small on SQLite)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="1 = full size.")
        parser.add_argument("--prefix", default="load", help="Company slug and e-mail prefix.")
        parser.add_argument(
            "--reset", action="store_true", help="Delete the previous load data first."
        )
        parser.add_argument("--seed", type=int, default=8)
        parser.add_argument(
            "--companies",
            type=int,
            default=None,
            help=f"How many companies share the data (default {COMPANIES} at scale 1); "
            "1 puts every family in one company (the search benchmark's worst case).",
        )

    def handle(self, *args, scale, prefix, reset, seed, companies, **options):
        if scale <= 0:
            raise CommandError("--scale must be positive.")
        if connection.vendor != "postgresql" and scale > 0.05:
            raise CommandError(
                f"{connection.vendor} is for small sets only (--scale ≤ 0.05); "
                "set DATABASE_URL to a PostgreSQL database."
            )
        started = time.perf_counter()
        with scopes_disabled():
            existing = Company.objects.filter(slug__startswith=f"{prefix}-")
            if existing.exists():
                if not reset:
                    raise CommandError(
                        f"Companies with the prefix {prefix!r} exist: add --reset to replace them."
                    )
                self._reset(prefix)
                self.stdout.write(
                    f"deleted the previous data in {time.perf_counter() - started:.1f} s"
                )
            elif reset:
                self._delete_users(prefix)
            build = Builder(
                scale=scale, prefix=prefix, seed=seed, out=self.stdout, companies=companies
            )
            with transaction.atomic():
                build.run()
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            counts = build.counts()
        elapsed = time.perf_counter() - started
        for name, count in counts.items():
            self.stdout.write(f"{name:<22} {count:>9,}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Built the {prefix!r} data set at scale {scale} in {elapsed:.1f} s."
            )
        )
        self.stdout.write(
            f"Logins (password {PASSWORD!r}): parents {prefix}-parent-<n>@example.com "
            f"(n = 0, {LOGIN_EVERY}, {2 * LOGIN_EVERY}, …), e.g. {build.parent_example}; "
            f"staff {prefix}-staff-<n>@example.com (n = 1…{len(build.companies)}), company "
            f"slugs {prefix}-01…"
        )

    # --- reset ------------------------------------------------------------------------
    def _reset(self, prefix: str) -> None:
        """Delete the prefix's companies: every company-owned table with one DELETE (the
        foreign keys are deferred to the commit, so the order doesn't matter), then the
        companies through the ORM (which cascades to anything left), then their users."""
        ids = list(
            Company.objects.filter(slug__startswith=f"{prefix}-").values_list("pk", flat=True)
        )
        marks = ", ".join(["%s"] * len(ids))
        with transaction.atomic(), connection.cursor() as cursor:
            for model in apps.get_models():
                if model is Company or model._meta.proxy or not model._meta.managed:
                    continue
                for field in model._meta.concrete_fields:
                    if isinstance(field, ForeignKey) and field.related_model is Company:
                        table = connection.ops.quote_name(model._meta.db_table)
                        column = connection.ops.quote_name(field.column)
                        cursor.execute(
                            f"DELETE FROM {table} WHERE {column} IN ({marks})",  # noqa: S608
                            ids,
                        )
            Company.objects.filter(pk__in=ids).delete()
        self._delete_users(prefix)

    def _delete_users(self, prefix: str) -> None:
        User.objects.filter(email__startswith=f"{prefix}-", email__endswith="@example.com").filter(
            email__regex=rf"^{prefix}-(parent|staff)-[0-9]+@example\.com$"
        ).delete()


class Builder:
    def __init__(self, *, scale: float, prefix: str, seed: int, out, companies: int | None = None):
        self.scale = scale
        self.n_companies = companies
        self.prefix = prefix
        self.rng = random.Random(seed)
        self.out = out
        self.now = timezone.now()
        self.today = timezone.localdate(self.now, ZoneInfo(TIMEZONE))
        self.companies: list[Company] = []
        self.parent_example = ""
        self._tick = time.perf_counter()

    def step(self, what: str) -> None:
        now = time.perf_counter()
        self.out.write(f"  {what} ({now - self._tick:.1f} s)")
        self._tick = now

    def counts(self) -> dict[str, int]:
        ids = [c.pk for c in self.companies]
        return {
            "companies": len(ids),
            "programmes": Programme.objects.filter(company_id__in=ids).count(),
            "classes": Class.objects.filter(company_id__in=ids).count(),
            "sessions": Session.objects.filter(company_id__in=ids).count(),
            "families": Family.objects.filter(company_id__in=ids).count(),
            "guardians": Guardian.objects.filter(company_id__in=ids).count(),
            "parent logins": Guardian.objects.filter(
                company_id__in=ids, user__isnull=False
            ).count(),
            "students": Student.objects.filter(company_id__in=ids).count(),
            "enrolments": Enrolment.objects.filter(company_id__in=ids).count(),
            "attendances": Attendance.objects.filter(company_id__in=ids).count(),
            "credits": MakeupCredit.objects.filter(company_id__in=ids).count(),
            "credit events": CreditEvent.objects.filter(company_id__in=ids).count(),
            "make-up bookings": MakeupBooking.objects.filter(company_id__in=ids).count(),
        }

    def run(self) -> None:
        s = self.scale
        n_companies = self.n_companies or sized(COMPANIES, s)
        n_classes = max(sized(CLASSES, s), n_companies * 2)
        self._companies(n_companies)
        self._programmes()
        self._classes(n_classes)
        self._sessions()
        self._families(sized(FAMILIES, s))
        self._attendances(sized(ATTENDANCES, s))
        self._credits(sized(CREDITS, s))
        self._bookings(sized(CREDITS * BOOKING_SHARE, s))
        self._events()
        self._places()

    def _places(self) -> None:
        """Bulk rows send no signals: count each session's places taken once at the end."""
        for company in self.companies:
            recount_places(company_id=company.pk)
        self.step("places taken counted")

    # --- tenants, programmes, classes, sessions ----------------------------------------
    def _companies(self, n: int) -> None:
        password = make_password(PASSWORD)
        confirmed = self.now
        for c in range(n):
            self.companies.append(
                company_create(
                    name=f"Load School {c + 1:02d}",
                    slug=f"{self.prefix}-{c + 1:02d}",
                    timezone=TIMEZONE,
                )
            )
        staff = User.objects.bulk_create(
            [
                User(
                    email=f"{self.prefix}-staff-{c + 1}@example.com",
                    full_name=f"Staff {c + 1}",
                    password=password,
                    email_confirmed_at=confirmed,
                )
                for c in range(n)
            ]
        )
        Membership.objects.bulk_create(
            [
                Membership(user=user, company=company, role=Role.STAFF)
                for user, company in zip(staff, self.companies, strict=True)
            ]
        )
        self.password_hash = password
        self.step(f"{n} companies with settings and a staff login each")

    def _programmes(self) -> None:
        self.programmes = Programme.objects.bulk_create(
            [
                Programme(company=company, name=f"Level {p + 1}", code=f"LVL-{p + 1}")
                for company in self.companies
                for p in range(PROGRAMMES_PER_COMPANY)
            ]
        )
        # Bulk inserts skip programme_create and its hooks: the default policies are added
        # here (the decision chain and on-time check need one).
        CancellationPolicy.objects.bulk_create(
            [CancellationPolicy(company_id=p.company_id, programme=p) for p in self.programmes]
        )
        self.step(f"{len(self.programmes)} programmes with their cancellation policies")

    def _classes(self, n: int) -> None:
        by_company: dict[int, list[Programme]] = {}
        for programme in self.programmes:
            by_company.setdefault(programme.company_id, []).append(programme)
        start = self.today - timedelta(weeks=PAST_WEEKS, days=7)
        end = self.today + timedelta(weeks=SESSIONS_PER_CLASS - PAST_WEEKS + 1)
        classes = []
        for k in range(n):
            company = self.companies[k % len(self.companies)]
            index = k // len(self.companies)
            level = index % PROGRAMMES_PER_COMPANY
            classes.append(
                Class(
                    company=company,
                    programme=by_company[company.pk][level],
                    name=f"Level {level + 1} · group {index + 1}",
                    location=f"Pool {index % 3 + 1}",
                    capacity=CAPACITY,
                    # Ages by level, so every class of a programme suits the same children.
                    min_age_months=48 + level * 12,
                    max_age_months=96 + level * 12,
                    start_date=start,
                    end_date=end,
                    price_per_session=Decimal("25.00"),
                )
            )
        self.classes = Class.objects.bulk_create(classes, batch_size=BATCH)
        self.schedules = ClassSchedule.objects.bulk_create(
            [
                ClassSchedule(
                    company_id=klass.company_id,
                    klass=klass,
                    weekday=k % 6,
                    start_time=datetime(2000, 1, 1, 15 + k % 4, 30 * (k // 6 % 2)).time(),
                    duration_minutes=30,
                )
                for k, klass in enumerate(self.classes)
            ],
            batch_size=BATCH,
        )
        self.step(f"{len(self.classes)} classes with a weekly slot each")

    def _sessions(self) -> None:
        tz = ZoneInfo(TIMEZONE)
        sessions = []
        first_week = self.today - timedelta(weeks=PAST_WEEKS)
        for schedule in self.schedules:
            first = first_week + timedelta(days=(schedule.weekday - first_week.weekday()) % 7)
            for week in range(SESSIONS_PER_CLASS):
                day = first + timedelta(weeks=week)
                starts = datetime.combine(day, schedule.start_time, tzinfo=tz)
                sessions.append(
                    Session(
                        company_id=schedule.company_id,
                        klass=schedule.klass,
                        schedule=schedule,
                        starts_at=starts,
                        ends_at=starts + timedelta(minutes=schedule.duration_minutes),
                        local_date=day,
                    )
                )
        self.sessions = Session.objects.bulk_create(sessions, batch_size=BATCH)
        self.sessions_by_class: dict[int, list[Session]] = {}
        for session in self.sessions:
            self.sessions_by_class.setdefault(session.klass_id, []).append(session)
        self.step(f"{len(self.sessions)} sessions")

    # --- families ----------------------------------------------------------------------
    def _families(self, n: int) -> None:
        rng = self.rng
        families = [
            Family(company=self.companies[f % len(self.companies)], name=rng.choice(SURNAMES))
            for f in range(n)
        ]
        for family in families:
            family.fill_search_text()  # bulk_create skips save(), which keeps it
        families = Family.objects.bulk_create(families, batch_size=BATCH)
        users = User.objects.bulk_create(
            [
                User(
                    email=f"{self.prefix}-parent-{f}@example.com",
                    full_name=f"Parent {f}",
                    password=self.password_hash,
                    email_confirmed_at=self.now,
                )
                for f in range(0, n, LOGIN_EVERY)
            ],
            batch_size=BATCH,
        )
        user_of = {f: users[i] for i, f in enumerate(range(0, n, LOGIN_EVERY))}
        self.parent_example = users[0].email if users else ""
        guardians = []
        for f, family in enumerate(families):
            user = user_of.get(f)
            guardians.append(
                Guardian(
                    company_id=family.company_id,
                    family=family,
                    user=user,
                    full_name=f"{rng.choice(FIRST_NAMES)} {family.name}",
                    email=user.email if user else f"{self.prefix}-guardian-{f}@example.com",
                    phone=f"04{f:08d}",
                )
            )
            if f % 3 == 0:
                guardians.append(
                    Guardian(
                        company_id=family.company_id,
                        family=family,
                        full_name=f"{rng.choice(FIRST_NAMES)} {family.name}",
                        phone=f"05{f:08d}",
                    )
                )
        for guardian in guardians:
            guardian.fill_search_text()
        Guardian.objects.bulk_create(guardians, batch_size=BATCH)

        # Students: one or two a family (1.5 on average), each enrolled in one class of the
        # family's company, the classes filled in turn (at most MAX_REGULARS each), born to
        # fit the class's ages.
        classes_of: dict[int, list[Class]] = {}
        for klass in self.classes:
            classes_of.setdefault(klass.company_id, []).append(klass)
        turn = dict.fromkeys(classes_of, 0)
        students, homes = [], []
        self.regulars: dict[int, int] = {}
        for f, family in enumerate(families):
            # (by the family's turn in its company, so every company gets 1.5 a family)
            for _child in range(1 + f // len(self.companies) % 2):
                own = classes_of[family.company_id]
                klass = None
                for _ in range(len(own)):
                    candidate = own[turn[family.company_id] % len(own)]
                    turn[family.company_id] += 1
                    if self.regulars.get(candidate.pk, 0) < MAX_REGULARS:
                        klass = candidate
                        break
                if klass is None:
                    break  # every class of the company is full
                self.regulars[klass.pk] = self.regulars.get(klass.pk, 0) + 1
                age = rng.randint(klass.min_age_months + 6, klass.max_age_months - 18)
                students.append(
                    Student(
                        company_id=family.company_id,
                        family=family,
                        first_name=rng.choice(CHILD_NAMES),
                        last_name=family.name.split()[-1],
                        date_of_birth=self.today - timedelta(days=int(age * 30.44)),
                    )
                )
                homes.append(klass)
        for student in students:
            student.fill_search_text()
        self.students = Student.objects.bulk_create(students, batch_size=BATCH)
        enrolled_from = self.today - timedelta(weeks=PAST_WEEKS, days=7)
        self.enrolments = Enrolment.objects.bulk_create(
            [
                Enrolment(
                    company_id=student.company_id,
                    student=student,
                    klass=klass,
                    start_date=enrolled_from,
                )
                for student, klass in zip(self.students, homes, strict=True)
            ],
            batch_size=BATCH,
        )
        self.user_of_family = {families[f].pk: u for f, u in user_of.items()}
        self.step(
            f"{len(families)} families, {len(guardians)} guardians ({len(users)} logins), "
            f"{len(self.students)} students and enrolments"
        )

    # --- attendance and credits --------------------------------------------------------
    def _attendances(self, target: int) -> None:
        past = {
            klass_id: [s for s in sessions if s.starts_at < self.now]
            for klass_id, sessions in self.sessions_by_class.items()
        }
        slots = sum(len(past[e.klass_id]) for e in self.enrolments)
        share = min(1.0, target / slots) if slots else 0
        states = [state for state, _, _ in STATES]
        weights = [weight for _, weight, _ in STATES]
        before = {state: delta for state, _, delta in STATES}
        rng = self.rng
        rows = []
        for enrolment in self.enrolments:
            for session in past[enrolment.klass_id]:
                if rng.random() >= share:
                    continue
                state = rng.choices(states, weights)[0]
                delta = before[state]
                rows.append(
                    Attendance(
                        company_id=enrolment.company_id,
                        enrolment=enrolment,
                        session=session,
                        state=state,
                        cancelled_at=session.starts_at - delta if delta else None,
                    )
                )
        self.attendances = Attendance.objects.bulk_create(rows, batch_size=BATCH)
        self.step(f"{len(self.attendances)} attendance rows ({slots} possible)")

    def _credits(self, target: int) -> None:
        """Credits for on-time and staff cancellations (as the default policy decides), the
        rest added by an admin; expired once past their 30 days."""
        rng = self.rng
        session_of = {s.pk: s for s in self.sessions}
        credits = []
        for attendance in self.attendances:
            if len(credits) >= target:
                break
            if attendance.state == AttendanceState.CANCELLED:
                path, issued = CreditPath.ON_TIME, attendance.cancelled_at
            elif attendance.state == AttendanceState.STAFF_CANCELLED:
                path = CreditPath.STAFF
                issued = session_of[attendance.session_id].starts_at - timedelta(days=1)
            else:
                continue
            credits.append(
                MakeupCredit(
                    company_id=attendance.company_id,
                    enrolment_id=attendance.enrolment_id,
                    path=path,
                    attendance=attendance,
                    cancelled_at=attendance.cancelled_at,
                    issued_at=issued,
                )
            )
        window = (PAST_WEEKS * 7) * 24 * 3600
        while len(credits) < target:
            enrolment = self.enrolments[rng.randrange(len(self.enrolments))]
            credits.append(
                MakeupCredit(
                    company_id=enrolment.company_id,
                    enrolment=enrolment,
                    path=CreditPath.MANUAL,
                    reason="Load data: goodwill credit",
                    issued_at=self.now - timedelta(seconds=rng.randrange(window)),
                )
            )
        for credit in credits:
            credit.expires_at = credit.issued_at + VALIDITY
            if credit.expires_at <= self.now:
                credit.state, credit.state_changed_at = CreditState.EXPIRED, credit.expires_at
            else:
                credit.state, credit.state_changed_at = CreditState.AVAILABLE, credit.issued_at
        self.credits = MakeupCredit.objects.bulk_create(credits, batch_size=BATCH)
        self.step(f"{len(self.credits)} credits")

    def _bookings(self, target: int) -> None:
        """Make-ups in coming sessions of another class of the same programme, in places
        the regulars leave (no session over capacity); every fifth cancelled again."""
        rng = self.rng
        enrolment_of = {e.pk: e for e in self.enrolments}
        student_of = {s.pk: s for s in self.students}
        class_of = {k.pk: k for k in self.classes}
        by_programme: dict[int, list[Class]] = {}
        for klass in self.classes:
            by_programme.setdefault(klass.programme_id, []).append(klass)
        taken: dict[int, int] = {}
        booked_pairs: set[tuple[int, int]] = set()
        available = [c for c in self.credits if c.state == CreditState.AVAILABLE]
        rng.shuffle(available)
        bookings, spent = [], []
        for credit in available:
            if len(bookings) >= target:
                break
            enrolment = enrolment_of[credit.enrolment_id]
            home = class_of[enrolment.klass_id]
            others = [k for k in by_programme[home.programme_id] if k.pk != home.pk]
            if not others:
                continue
            klass = rng.choice(others)
            room = klass.capacity - self.regulars.get(klass.pk, 0)
            coming = [
                s
                for s in self.sessions_by_class[klass.pk]
                if s.starts_at > self.now + timedelta(days=1)
                and (not credit.expires_at or s.starts_at < credit.expires_at)
                and taken.get(s.pk, 0) < room
                and (s.pk, enrolment.student_id) not in booked_pairs
            ]
            if not coming:
                continue
            session = rng.choice(coming)
            booked_at = credit.issued_at + (self.now - credit.issued_at) / 2
            cancelled = len(bookings) % 5 == 4
            student = student_of[enrolment.student_id]
            user = self.user_of_family.get(student.family_id)
            booking = MakeupBooking(
                company_id=credit.company_id,
                home_company_id=credit.company_id,
                session=session,
                student=student,
                enrolment=enrolment,
                state=MakeupBooking.State.CANCELLED if cancelled else MakeupBooking.State.BOOKED,
                note=f"Make-up for a missed lesson (credit {credit.pk})",
                source=MakeupBooking.Source.PORTAL if user else MakeupBooking.Source.STAFF,
                booked_at=booked_at,
                booked_by=user,
                cancelled_at=booked_at + timedelta(hours=1) if cancelled else None,
                cancelled_by=user if cancelled else None,
            )
            if not cancelled:
                taken[session.pk] = taken.get(session.pk, 0) + 1
                booked_pairs.add((session.pk, enrolment.student_id))
            bookings.append(booking)
            spent.append(credit)
        bookings = MakeupBooking.objects.bulk_create(bookings, batch_size=BATCH)
        self.used: dict[int, MakeupBooking] = {}
        self.returned: dict[int, MakeupBooking] = {}
        for credit, booking in zip(spent, bookings, strict=True):
            if booking.state == MakeupBooking.State.BOOKED:
                credit.state, credit.booking = CreditState.USED, booking
                credit.state_changed_at = booking.booked_at
                self.used[credit.pk] = booking
            else:
                credit.state_changed_at = booking.cancelled_at
                self.returned[credit.pk] = booking
        MakeupCredit.objects.bulk_update(
            spent, ["state", "booking", "state_changed_at"], batch_size=BATCH
        )
        self.bookings = bookings
        self.step(
            f"{len(bookings)} make-up bookings ({len(self.used)} active, "
            f"{len(self.returned)} cancelled with the credit returned)"
        )

    def _events(self) -> None:
        """Each credit's history, replaying to its state (CRD-2)."""
        events = []
        for credit in self.credits:
            common = {"company_id": credit.company_id, "credit": credit}
            events.append(
                CreditEvent(
                    **common,
                    kind=CreditEvent.Kind.ISSUED,
                    from_state="",
                    to_state=CreditState.AVAILABLE,
                    at=credit.issued_at,
                    note="Load data.",
                )
            )
            booking = self.used.get(credit.pk) or self.returned.get(credit.pk)
            if booking is not None:
                events.append(
                    CreditEvent(
                        **common,
                        kind=CreditEvent.Kind.USED,
                        from_state=CreditState.AVAILABLE,
                        to_state=CreditState.USED,
                        at=booking.booked_at,
                        actor=booking.booked_by,
                        note=f"Make-up booking {booking.pk}.",
                    )
                )
            if credit.pk in self.returned:
                events.append(
                    CreditEvent(
                        **common,
                        kind=CreditEvent.Kind.RETURNED,
                        from_state=CreditState.USED,
                        to_state=CreditState.AVAILABLE,
                        at=booking.cancelled_at,
                        actor=booking.cancelled_by,
                        note="Make-up cancelled on time.",
                    )
                )
            if credit.state == CreditState.EXPIRED:
                events.append(
                    CreditEvent(
                        **common,
                        kind=CreditEvent.Kind.EXPIRED,
                        from_state=CreditState.AVAILABLE,
                        to_state=CreditState.EXPIRED,
                        at=credit.expires_at,
                        note="Expired unused.",
                    )
                )
        CreditEvent.objects.bulk_create(events, batch_size=BATCH)
        self.step(f"{len(events)} credit events")
