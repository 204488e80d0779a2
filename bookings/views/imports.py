"""Back-office pages of the CSV import of families: upload, the import's page (progress,
report, "Confirm import"), the sample file. Thin: parse, call a service or selector, render."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from makeup.errors import DomainError
from makeup.progress import progress_get
from makeup.tenancy import access_object, staff_required

from ..forms import NOTHING_SAVED, ImportUploadForm
from ..models import FamilyImport
from ..services.import_csv import SAMPLE_CSV
from ..services.imports import (
    confirm_refusal,
    family_import_confirm,
    family_import_upload,
    summary_of,
)


def _imported_counts(counts: dict[str, int]) -> str:
    """ "2 new families, 2 new parents, …" for the message after an import."""
    families, parents = counts["families"], counts["parents"]
    children, enrolments = counts["children"], counts["enrolments"]
    return ", ".join(
        [
            ngettext("{count} new family", "{count} new families", families).format(count=families),
            ngettext("{count} new parent", "{count} new parents", parents).format(count=parents),
            ngettext("{count} new child", "{count} new children", children).format(count=children),
            ngettext("{count} new enrolment", "{count} new enrolments", enrolments).format(
                count=enrolments
            ),
        ]
    )


@staff_required
def family_import_view(request: HttpRequest) -> HttpResponse:
    """Upload a file: its size, encoding and header are checked at once (milliseconds, whatever
    the file); the rows are checked by a task whose page follows (no upload holds a web
    worker). Also lists the company's recent imports."""
    company = request.company
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = family_import_upload(
                    company=company,
                    actor=request.user,
                    file_name=upload.name,
                    data=upload.read(),
                    language=get_language() or company.language,
                    now=timezone.now(),
                )
            except DomainError as error:
                form.add_error("file", error.message)
            else:
                return redirect("manage:family_import_detail", import_pk=job.pk)
        messages.error(request, NOTHING_SAVED)
    recent = FamilyImport.objects.filter(company=company).select_related("uploaded_by")[:10]
    return render(request, "bookings/import_upload.html", {"form": form, "recent": recent})


@require_GET
@staff_required
def family_import_detail(request: HttpRequest, import_pk: int) -> HttpResponse:
    """An import's page: its progress while the task runs (htmx polls the status part every
    two seconds), then the check's report with "Confirm import", then the outcome."""
    job = access_object(
        FamilyImport.objects.select_related("uploaded_by", "confirmed_by"),
        company=request.company,
        pk=import_pk,
    )
    now = timezone.now()
    progress = progress_get(job.progress_key) if job.running else None
    summary = summary_of(job)
    context = {
        "job": job,
        "summary": summary,
        "rows_done": progress[0] if progress else None,
        "rows_total": progress[1] if progress else None,
        "can_confirm": not confirm_refusal(job, now=now),
        "expired": job.state == FamilyImport.State.CHECKED
        and summary is not None
        and summary.ok
        and bool(confirm_refusal(job, now=now)),
        "counts": _imported_counts(summary.counts) if summary else "",
        "upload_form": ImportUploadForm(),
    }
    template = "bookings/_import_status.html" if request.htmx else "bookings/import_detail.html"
    return render(request, template, context)


@require_POST
@staff_required
def family_import_confirm_view(request: HttpRequest, import_pk: int) -> HttpResponse:
    job = access_object(FamilyImport.objects.all(), company=request.company, pk=import_pk)
    try:
        family_import_confirm(job=job, actor=request.user, now=timezone.now())
    except DomainError as error:
        messages.error(request, _("Nothing was saved: {error}").format(error=error.message))
    return redirect("manage:family_import_detail", import_pk=job.pk)


@require_GET
@staff_required
def family_import_sample(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(SAMPLE_CSV, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="families-sample.csv"'
    return response
