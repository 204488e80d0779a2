"""Credit e-mails (CRD-5), sent by Celery after the transaction that issued the credit."""

from celery import shared_task

from bookings.models import Guardian
from makeup.celery import CompanyTask
from makeup.emails import send_templated_email

from .models import CreditState, MakeupCredit


def _recipients(credit: MakeupCredit) -> list[Guardian]:
    return list(
        Guardian.objects.filter(family_id=credit.enrolment.student.family_id)
        .exclude(email="")
        .select_related("user")
    )


@shared_task(base=CompanyTask, bind=True)
def send_credit_issued(self, company, credit_id: int) -> int:
    """Tell the family a credit was issued, with its expiry, in each parent's language."""
    credit = (
        MakeupCredit.objects.filter(pk=credit_id, state=CreditState.AVAILABLE)
        .select_related("enrolment__student", "enrolment__klass__programme", "attendance__session")
        .first()
    )
    if credit is None:
        return 0
    sent = 0
    for guardian in _recipients(credit):
        language = (guardian.user.language if guardian.user else "") or company.language
        sent += send_templated_email(
            template="credit_issued",
            to=[guardian.email],
            language=language,
            context={
                "company": company,
                "credit": credit,
                "guardian": guardian,
                "student": credit.enrolment.student,
                "tz": company.timezone,
            },
        )
    return sent
