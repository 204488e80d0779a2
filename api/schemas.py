"""What the API reads and writes, as pydantic schemas (they make the OpenAPI schema)."""

from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema


class Error(Schema):
    """A refusal: ``code`` is the rule's reason code (stable, for programs), ``detail`` the
    same text a person sees on the pages, in the language asked for (``Accept-Language``)."""

    code: str
    detail: str


class Programme(Schema):
    id: int
    code: str
    name: str
    description: str
    makeups_enabled: bool
    archived_at: datetime | None
    created_at: datetime
    changed_at: datetime


class Klass(Schema):
    id: int
    programme_id: int
    name: str
    location: str
    capacity: int
    min_age_months: int | None
    max_age_months: int | None
    start_date: date
    end_date: date
    allow_makeups: bool
    archived_at: datetime | None
    created_at: datetime
    changed_at: datetime


class Session(Schema):
    id: int
    class_id: int = Field(..., alias="klass_id")
    programme_id: int
    starts_at: datetime
    ends_at: datetime
    local_date: date
    cancelled_at: datetime | None
    cancel_reason: str
    places: int = Field(..., description="Places in the session (capacity plus make-up extra).")
    places_taken: int
    places_left: int
    created_at: datetime
    changed_at: datetime


class Guardian(Schema):
    id: int
    full_name: str
    email: str
    phone: str


class Family(Schema):
    id: int
    name: str
    guardians: list[Guardian]
    created_at: datetime
    changed_at: datetime


class Student(Schema):
    id: int
    family_id: int
    first_name: str
    last_name: str
    date_of_birth: date
    created_at: datetime
    changed_at: datetime


class Enrolment(Schema):
    id: int
    student_id: int
    class_id: int = Field(..., alias="klass_id")
    start_date: date
    withdrawn_from: date | None
    created_at: datetime
    changed_at: datetime


class Attendance(Schema):
    id: int
    session_id: int
    enrolment_id: int
    student_id: int
    state: str
    cancelled_at: datetime | None
    changed_at: datetime


class Credit(Schema):
    id: int
    enrolment_id: int = Field(..., description="The enrolment the credit was earned on.")
    holder_enrolment_id: int = Field(..., description="Who may spend it (a sibling after a gift).")
    student_id: int
    path: str
    state: str
    reason: str
    issued_at: datetime
    expires_at: datetime | None
    booking_id: int | None
    changed_at: datetime


class MakeupBooking(Schema):
    id: int
    session_id: int
    student_id: int
    enrolment_id: int
    credit_id: int | None
    state: str
    attendance_state: str
    source: str
    note: str
    booked_at: datetime
    cancelled_at: datetime | None
    cancelled_late: bool
    changed_at: datetime


def _page(item: type[Schema], name: str) -> type[Schema]:
    return type(
        name,
        (Schema,),
        {
            "__annotations__": {"results": list[item], "next": str | None},
            "__doc__": "One page, oldest id first; ``next`` is the next page's address, or "
            "null on the last page.",
        },
    )


ProgrammePage = _page(Programme, "ProgrammePage")
ClassPage = _page(Klass, "ClassPage")
SessionPage = _page(Session, "SessionPage")
FamilyPage = _page(Family, "FamilyPage")
StudentPage = _page(Student, "StudentPage")
EnrolmentPage = _page(Enrolment, "EnrolmentPage")
AttendancePage = _page(Attendance, "AttendancePage")
CreditPage = _page(Credit, "CreditPage")
MakeupBookingPage = _page(MakeupBooking, "MakeupBookingPage")


# --- writes -------------------------------------------------------------------------------


class AttendanceIn(Schema):
    session_id: int
    enrolment_id: int
    state: Literal[
        "expected", "present", "no_show", "cancelled", "late_cancelled", "staff_cancelled"
    ]
    cancelled_at: datetime | None = Field(
        None,
        description="For a client cancellation: when the client told you (default: now). "
        "Whether it was on time is decided by the programme's policy.",
    )
    note: str = ""


class ClientCancellationIn(Schema):
    """The family tells you now; for a cancellation they told you of earlier, set the
    attendance with its ``cancelled_at`` (``PUT /attendance``)."""

    session_id: int
    enrolment_id: int


class MakeupBookIn(Schema):
    credit_id: int
    session_id: int
    note: str = ""
    override_reason: str = Field(
        "", description="Books past the portal-only rules (not capacity); kept and shown."
    )


class MakeupCancelIn(Schema):
    cancelled_at: datetime | None = Field(
        None, description="When the family cancelled (default: now)."
    )


class MakeupMoveIn(Schema):
    session_id: int
    override_reason: str = ""
