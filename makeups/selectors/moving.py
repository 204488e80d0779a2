"""WAL-2: until when a booked make-up can be moved to another session — one answer for the
portal's "Move" button and page, the staff page and the service that moves it
(:func:`makeups.services.moving.makeup_move`)."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from credits.models import CancellationPolicy
from credits.selectors.policies import cutoff_instant
from makeup.formats import local_datetime
from programmes.models import Session


@dataclass(frozen=True)
class MoveDeadline:
    """The host programme's on-time cut-off for the make-up's session (POL-1), and the
    company's own instructions for after it (POL-11)."""

    cutoff: datetime
    instructions: str
    tz: object

    def passed(self, now: datetime) -> bool:
        """Past the cut-off: exactly at it still counts as on time, as for a cancellation
        (:func:`credits.selectors.policies.is_on_time`)."""
        return now > self.cutoff

    @property
    def refusal(self) -> str:
        """What the family reads after the cut-off: the company's instructions, else a plain
        sentence with the cut-off."""
        return self.instructions or _(
            "It's too late to move this make-up online: it could be moved until {when}. "
            "Please contact us."
        ).format(when=local_datetime(self.cutoff, self.tz))

    @property
    def staff_refusal(self) -> str:
        """What staff read after the cut-off, as a check they may move past with a reason."""
        return _("Past the family's deadline for changes ({when}).").format(
            when=local_datetime(self.cutoff, self.tz)
        )


def move_deadline(session: Session) -> MoveDeadline:
    """The move deadline of a make-up on ``session`` (its class and programme, and its
    company, loaded): the host programme's policy (its defaults while it has saved none),
    read without writing — by the programme's id, at a partner branch too (FRN-7)."""
    programme = session.klass.programme
    with scopes_disabled():
        policy = CancellationPolicy.objects.filter(programme_id=programme.pk).first()
        if policy is None:
            policy = CancellationPolicy(company_id=programme.company_id, programme=programme)
        cutoff = cutoff_instant(policy, session)
    return MoveDeadline(
        cutoff=cutoff,
        instructions=policy.late_cancellation_instructions.strip(),
        tz=session.company.tzinfo,
    )
