"""The CSV import of families, off the request (``bookings.services.import_csv`` does the
parsing and the rows).

1. :func:`family_import_upload` (the upload page): checks the file's size, encoding and header
   in milliseconds, stores it in a :class:`~bookings.models.FamilyImport` of the company and
   hands the check to a Celery task through the outbox.
2. :func:`family_import_run` (the task): parses every row and runs the import as a dry run
   (rolled back), keeping its report: what each row would create, every row's errors.
3. :func:`family_import_confirm` (the "Confirm import" button) hands the import itself to the
   task, which runs it again for real, in one transaction: all rows or none.

The page follows each step with its progress (:mod:`makeup.progress`) and shows the report.
"""

from datetime import datetime, timedelta

from django.db import DatabaseError, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from makeup import outbox
from makeup.errors import DomainError
from makeup.models import Company
from makeup.progress import progress_clear, progress_reporter

from ..models import FamilyImport
from .import_csv import ImportFileError, ImportSummary, check_upload, family_import, read_csv

#: Rows of a clean file shown on the page before "Confirm import".
PREVIEW_ROWS = 500
#: Rows with errors kept and shown (the count says how many there are in all).
ERROR_ROWS = 1000
#: Between the check and "Confirm import": the classes and families may have changed since.
CONFIRM_MAX_AGE = timedelta(hours=2)


def _hand_over(job: FamilyImport, phase: str) -> None:
    """Queue the task for ``job`` (in the outbox, after this transaction commits); no
    progress is shown for it until it starts."""
    progress_clear(job.progress_key)
    outbox.enqueue(
        "bookings.tasks.run_family_import",
        job.company_id,
        job.pk,
        key=f"family-import:{job.pk}:{phase}",
    )


@transaction.atomic
def family_import_upload(
    *, company: Company, actor, file_name: str, data: bytes, language: str, now: datetime
) -> FamilyImport:
    """Store an uploaded file for its check, or refuse it (:class:`ImportFileError`) when its
    size, encoding or header row is wrong: a header of 45,000 columns is refused here, in
    time linear in its length."""
    text = check_upload(data)
    job = FamilyImport.objects.create(
        company=company,
        uploaded_by=actor,
        file_name=file_name[:255],
        language=language,
        content=text,
        state=FamilyImport.State.CHECKING,
        created_at=now,
    )
    _hand_over(job, "check")
    return job


def confirm_refusal(job: FamilyImport, *, now: datetime) -> str:
    """Why ``job`` can't be confirmed now ("" when it can): the page shows the button only
    when it can, and the service checks again."""
    if job.state != FamilyImport.State.CHECKED:
        return _("This import is not waiting for a confirmation.")
    if not job.report or job.report.get("error_row_count"):
        return _("Some rows have errors: correct them and upload the file again.")
    if not job.content or job.checked_at is None or now - job.checked_at > CONFIRM_MAX_AGE:
        return _("The check is too old: upload the file again.")
    return ""


@transaction.atomic
def family_import_confirm(*, job: FamilyImport, actor, now: datetime) -> FamilyImport:
    """ "Confirm import": hand a checked file without errors to the task that imports it.
    Never waits for a running task's lock (a web request must not): refused at once."""
    refusal = confirm_refusal(job, now=now)
    if refusal:
        raise DomainError(refusal)
    try:
        job = FamilyImport.objects.select_for_update(nowait=True).get(
            pk=job.pk, company_id=job.company_id
        )
    except DatabaseError as error:
        raise DomainError(_("This import is busy: try again in a moment.")) from error
    refusal = confirm_refusal(job, now=now)  # again, now that it is locked
    if refusal:
        raise DomainError(refusal)
    job.state = FamilyImport.State.IMPORTING
    job.confirmed_by, job.confirmed_at = actor, now
    job.save(update_fields=["state", "confirmed_by", "confirmed_at"])
    _hand_over(job, "import")
    return job


def family_import_run(*, company: Company, import_id: int, now: datetime) -> FamilyImport | None:
    """The task's work: the check (dry run) of a file being checked, or the import of a
    confirmed one, in one transaction with the import's row locked. Any other state means the
    work is done (a second delivery): nothing happens. Row messages are written in the
    uploader's language."""
    with transaction.atomic():
        job = (
            FamilyImport.objects.select_for_update(of=("self",))
            .filter(company=company, pk=import_id)
            .select_related("uploaded_by", "confirmed_by")
            .first()
        )
        if job is None or not job.running:
            return job
        checking = job.state == FamilyImport.State.CHECKING
        with translation.override(job.language or company.language):
            try:
                parsed = read_csv(job.content)
                report = family_import(
                    company=company,
                    actor=job.uploaded_by if checking else job.confirmed_by,
                    parsed=parsed,
                    dry_run=checking,
                    now=now,
                    progress=progress_reporter(job.progress_key, total=len(parsed.lines)),
                )
            except ImportFileError as error:
                job.state, job.message = FamilyImport.State.FAILED, error.message
            else:
                summary = report.summary(preview_rows=PREVIEW_ROWS, error_rows=ERROR_ROWS)
                job.report = summary.to_json()
                if checking:
                    job.state, job.checked_at = FamilyImport.State.CHECKED, now
                elif report.saved:
                    job.state = FamilyImport.State.IMPORTED
                else:  # a class filled up since the check…
                    job.state = FamilyImport.State.REFUSED
        waits = job.state == FamilyImport.State.CHECKED and job.report["error_row_count"] == 0
        if not waits:  # over: the file's personal data goes, its outcome stays
            job.content = ""
        job.save()
    return job


def family_imports_purge(*, now: datetime) -> int:
    """Drop the text of files checked but not confirmed in time (:data:`CONFIRM_MAX_AGE`):
    they can't be confirmed any more. Hourly (beat), every company's rows: a housekeeping
    sweep that reads no tenant data, hence without a scope."""
    with scopes_disabled():
        return (
            FamilyImport.objects.filter(
                state=FamilyImport.State.CHECKED, checked_at__lt=now - CONFIRM_MAX_AGE
            )
            .exclude(content="")
            .update(content="")
        )


def summary_of(job: FamilyImport) -> ImportSummary | None:
    return ImportSummary.from_json(job.report) if job.report else None
