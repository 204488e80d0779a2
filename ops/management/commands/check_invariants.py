"""The data invariants, checked over every company (after a load test, a restore, or any time):

1. No session over capacity because of make-ups (MKP-7, MKP-8): where a session has active
   make-up bookings, regulars expected + make-ups never exceed capacity + extra places.
2. No credit spent twice (CRD-3, WAL-2): every used credit points at one active or finished
   make-up booking, no booking carries two credits, every active booking has its credit, and
   a credit's booking is of the enrolment holding the credit (WAL-1). A move (WAL-2) changes
   the booking's session, not the credit's booking, so a credit is on at most one live
   booking by its one link; the checks above catch a move that freed it, doubled the booking
   or lost it.
3. Every credit's history replays to its state (CRD-2): its events chain from "issued"
   (from_state blank) through each to_state, each starting where the last ended, and the last
   one is the credit's state; a "moved" event (WAL-2) leaves a used credit used, and a
   transfer to a sibling (WAL-1) and a carry-over into the next term (WAL-4) keep it
   available.
4. Every credit's changes of hands replay to its holder (WAL-1, WAL-4): starting from the
   enrolment that earned it, each "transferred" and each "carried" entry, in order, moves it
   from the enrolment holding it then to its ``to_enrolment``; the last one's receiver is the
   holder (never moved: the holder is the earning enrolment), and the last transfer's time is
   the credit's ``transferred_at``. A carry-over keeps it with the same child in the same
   programme: its new holder is the old holder's student, in a class of the old holder's
   class's programme. A credit's holder is always a child of the family that earned it, and
   a credit earned by a lesson stays on that lesson's enrolment (neither moves it).
5. Every outbox message sent once (makeup.outbox): none still unsent after ``--outbox-grace``
   seconds, and with ``--mail-dir`` (a ``filemail://`` folder the workers wrote to) no
   recipient got a message's e-mail twice, and no e-mail went out for a message not marked
   done.
6. Every session's places taken (the column the search and the booking read, MKP-7) equals
   the count from the rows: regulars enrolled that day, minus those who gave their place up,
   plus booked make-up guests (``bookings.services.places``).

    manage.py check_invariants        # exit 1 listing the first problems, else "all hold"
    manage.py check_invariants --mail-dir /tmp/mails --outbox-grace 60
"""

from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, F, Q
from django.utils import timezone
from django_scopes import scopes_disabled

from bookings.models import Enrolment, MakeupBooking
from bookings.services.places import counted_places
from credits.models import CreditEvent, CreditState, MakeupCredit
from makeup.models import OutboxMessage
from makeup.outbox import mail_sent
from makeups.selectors.eligibility import with_occupancy
from programmes.models import Session

USED_TO_USED = (CreditState.USED, CreditState.USED)
AVAILABLE_TO_AVAILABLE = (CreditState.AVAILABLE, CreditState.AVAILABLE)


class Command(BaseCommand):
    help = (
        "Check the data invariants (capacity, credits spent once, credit histories, "
        "transfers to siblings, carry-overs into the next term, places taken)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--show", type=int, default=20, help="How many problems to list.")
        parser.add_argument(
            "--outbox-grace",
            type=int,
            default=120,
            help="Seconds an outbox message may still be waiting (the relay runs every 30).",
        )
        parser.add_argument(
            "--mail-dir",
            type=Path,
            help="A filemail:// folder the workers wrote to: check each e-mail went out once.",
        )

    def handle(self, *args, show, outbox_grace, mail_dir, **options):
        with scopes_disabled():
            problems = [
                *self._capacity(),
                *self._spent_once(),
                *self._histories(),
                *self._holders(),
                *self._outbox(outbox_grace, mail_dir),
                *self._places(),
            ]
        if problems:
            raise CommandError(
                f"{len(problems)} invariant violation(s):\n" + "\n".join(problems[:show])
            )
        self.stdout.write(self.style.SUCCESS("All invariants hold."))

    def _capacity(self) -> list[str]:
        with_guests = (
            MakeupBooking.objects.filter(state=MakeupBooking.State.BOOKED)
            .values_list("session_id", flat=True)
            .distinct()
        )
        sessions = with_occupancy(
            Session.objects.filter(pk__in=with_guests), guests=True
        ).select_related("klass")
        problems = []
        for session in sessions.iterator(chunk_size=2000):
            extra = session.klass.extra_capacity(session.company.settings.makeup_extra_capacity)
            limit = session.klass.capacity + extra
            taken = session.places_taken
            if taken > limit and session.makeups:
                problems.append(
                    f"session {session.pk}: {taken} taken of {limit} ({session.makeups} make-ups)"
                )
        self.stdout.write(f"capacity: {len(problems)} problem(s)")
        return problems

    def _places(self) -> list[str]:
        wrong = (
            Session.objects.annotate(counted=counted_places())
            .exclude(places_taken=F("counted"))
            .order_by("pk")
            .values_list("pk", "places_taken", "counted")
        )
        problems = [
            f"session {pk}: {kept} places taken kept, {counted} counted"
            for pk, kept, counted in wrong.iterator(chunk_size=2000)
        ]
        self.stdout.write(f"places taken: {len(problems)} problem(s)")
        return problems

    def _spent_once(self) -> list[str]:
        problems = []
        doubled = (
            MakeupCredit.objects.filter(booking__isnull=False)
            .values("booking_id")
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
        )
        problems += [f"booking {row['booking_id']}: {row['n']} credits" for row in doubled]
        used_without = MakeupCredit.objects.filter(state=CreditState.USED, booking__isnull=True)
        problems += [
            f"credit {pk}: used without a booking"
            for pk in used_without.values_list("pk", flat=True)
        ]
        with_credit = set(
            MakeupCredit.objects.filter(state=CreditState.USED, booking__isnull=False).values_list(
                "booking_id", flat=True
            )
        )
        active = MakeupBooking.objects.filter(state=MakeupBooking.State.BOOKED)
        problems += [
            f"booking {pk}: active but no used credit"
            for pk in active.values_list("pk", flat=True)
            if pk not in with_credit
        ]
        elsewhere = MakeupCredit.objects.filter(booking__isnull=False).exclude(
            booking__enrolment_id=F("holder_id")
        )
        problems += [
            f"credit {pk}: spent on booking {booking_id} of another enrolment"
            for pk, booking_id in elsewhere.values_list("pk", "booking_id")
        ]
        self.stdout.write(f"credits spent once: {len(problems)} problem(s)")
        return problems

    def _histories(self) -> list[str]:
        states = dict(MakeupCredit.objects.values_list("pk", "state"))
        events = defaultdict(list)
        problems = []
        for credit_id, kind, from_state, to_state in (
            CreditEvent.objects.order_by("credit_id", "at", "pk")
            .values_list("credit_id", "kind", "from_state", "to_state")
            .iterator(chunk_size=5000)
        ):
            events[credit_id].append((from_state, to_state))
            if kind == CreditEvent.Kind.MOVED and (from_state, to_state) != USED_TO_USED:
                problems.append(f"credit {credit_id}: moved from {from_state} to {to_state}")
        for credit_id, state in states.items():
            chain = events.get(credit_id, [])
            if not chain or chain[0][0] != "":
                problems.append(f"credit {credit_id}: history does not start with its issue")
                continue
            current = ""
            for from_state, to_state in chain:
                if from_state != current and from_state != "":
                    problems.append(
                        f"credit {credit_id}: an event from {from_state} after {current}"
                    )
                    break
                current = to_state
            else:
                if current != state:
                    problems.append(f"credit {credit_id}: history ends {current}, state {state}")
        self.stdout.write(f"credit histories: {len(problems)} problem(s)")
        return problems

    def _holders(self) -> list[str]:
        moves = defaultdict(list)
        for credit_id, kind, giver, receiver, at, from_state, to_state in (
            CreditEvent.objects.filter(
                kind__in=[CreditEvent.Kind.TRANSFERRED, CreditEvent.Kind.CARRIED]
            )
            .order_by("credit_id", "at", "pk")
            .values_list(
                "credit_id",
                "kind",
                "from_enrolment_id",
                "to_enrolment_id",
                "at",
                "from_state",
                "to_state",
            )
            .iterator(chunk_size=5000)
        ):
            moves[credit_id].append((kind, giver, receiver, at, (from_state, to_state)))
        carried_between = {
            e
            for chain in moves.values()
            for kind, giver, receiver, _at, _states in chain
            if kind == CreditEvent.Kind.CARRIED
            for e in (giver, receiver)
        }
        owner = {
            pk: (student, programme)
            for pk, student, programme in Enrolment.objects.filter(
                pk__in=carried_between
            ).values_list("pk", "student_id", "klass__programme_id")
        }
        problems = []
        moved = MakeupCredit.objects.filter(
            Q(pk__in=list(moves))
            | ~Q(holder_id=F("enrolment_id"))
            | Q(transferred_at__isnull=False)
        ).values_list("pk", "enrolment_id", "holder_id", "transferred_at")
        for credit_id, enrolment_id, holder_id, transferred_at in moved.iterator(chunk_size=2000):
            current, last = enrolment_id, None
            for kind, giver, receiver, at, states in moves.get(credit_id, []):
                if giver != current:
                    how = "given by" if kind == CreditEvent.Kind.TRANSFERRED else "carried from"
                    problems.append(
                        f"credit {credit_id}: {how} enrolment {giver} while {current} held it"
                    )
                    break
                if kind == CreditEvent.Kind.TRANSFERRED:
                    last = at
                else:
                    if states != AVAILABLE_TO_AVAILABLE:
                        problems.append(f"credit {credit_id}: carried while {states[0]}")
                        break
                    if owner.get(receiver) != owner.get(giver):
                        problems.append(
                            f"credit {credit_id}: carried from enrolment {giver} to {receiver}, "
                            "another student or programme"
                        )
                        break
                current = receiver
            else:
                if current != holder_id:
                    problems.append(
                        f"credit {credit_id}: transfers and carry-overs end at enrolment "
                        f"{current}, holder {holder_id}"
                    )
                elif last != transferred_at:
                    problems.append(
                        f"credit {credit_id}: last transferred {last}, recorded {transferred_at}"
                    )
        strangers = (
            MakeupCredit.objects.exclude(holder_id=F("enrolment_id"))
            .exclude(holder__student__family_id=F("enrolment__student__family_id"))
            .values_list("pk", flat=True)
        )
        problems += [f"credit {pk}: held outside the family that earned it" for pk in strangers]
        elsewhere = (
            MakeupCredit.objects.filter(attendance__isnull=False)
            .exclude(enrolment_id=F("attendance__enrolment_id"))
            .values_list("pk", flat=True)
        )
        problems += [
            f"credit {pk}: on another enrolment than the lesson that earned it" for pk in elsewhere
        ]
        self.stdout.write(f"credit holders: {len(problems)} problem(s)")
        return problems

    def _outbox(self, grace: int, mail_dir: Path | None) -> list[str]:
        cutoff = timezone.now() - timedelta(seconds=grace)
        waiting = OutboxMessage.objects.filter(done_at__isnull=True, created_at__lt=cutoff)
        problems = [
            f"outbox {key}: not sent after {grace} s ({attempts} failed attempt(s))"
            for key, attempts in waiting.values_list("key", "attempts")[:1000]
        ]
        if mail_dir is not None:
            sent = mail_sent(mail_dir)
            problems += [
                f"outbox {key}: e-mailed {count} times to {to}"
                for (key, to), count in sent.items()
                if count > 1
            ]
            keys = {key for key, _ in sent}
            done = set(
                OutboxMessage.objects.filter(key__in=keys, done_at__isnull=False).values_list(
                    "key", flat=True
                )
            )
            problems += [f"outbox {key}: e-mailed but not marked done" for key in keys - done]
            self.stdout.write(f"outbox e-mails read: {sum(sent.values())}")
        self.stdout.write(f"outbox sent once: {len(problems)} problem(s)")
        return problems
