"""Back-office pages for families, parents and students; parent invitations to the portal;
the CSV import of families. Thin: parse, call a service or selector, render."""

from datetime import date

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from makeup import ratelimit
from makeup.errors import DomainError
from makeup.progress import progress_get
from makeup.tenancy import access_object, staff_required

from . import hooks
from .family_forms import (
    FamilyForm,
    FamilySearchForm,
    GuardianForm,
    ImportUploadForm,
    OptionalStudentForm,
    PackageForm,
    PaymentForm,
    StudentForm,
)
from .models import Family, FamilyImport, Guardian, Student
from .selectors.account import family_statement
from .selectors.families import family_list_page, family_page
from .services.account import payment_record
from .services.families import (
    family_create,
    family_update,
    guardian_create,
    guardian_invite,
    guardian_update,
    student_create,
    student_update,
)
from .services.import_csv import SAMPLE_CSV
from .services.imports import (
    confirm_refusal,
    family_import_confirm,
    family_import_upload,
    summary_of,
)
from .services.packages import package_sell

NOTHING_SAVED = gettext_lazy("Nothing was saved: please correct the fields marked below.")


def _today(request: HttpRequest) -> date:
    return timezone.localdate(timezone=request.company.tzinfo)


def _data(request: HttpRequest):
    return request.POST if request.method == "POST" else None


@staff_required
def family_list(request: HttpRequest) -> HttpResponse:
    """Families with their parents, children and active enrolments; searchable (TEN-2)."""
    form = FamilySearchForm(request.GET)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    page = family_list_page(
        company=request.company, q=q, page=request.GET.get("page"), today=_today(request)
    )
    return render(request, "bookings/family_list.html", {"form": form, "page": page, "q": q})


@staff_required
def family_detail(request: HttpRequest, family_pk: int) -> HttpResponse:
    family = access_object(Family.objects.all(), company=request.company, pk=family_pk)
    return render(
        request,
        "bookings/family_detail.html",
        {
            "page": family_page(family=family, today=_today(request)),
            "statement": family_statement(family=family),
            "panels": hooks.family_panels(now=timezone.now(), request=request, family=family),
        },
    )


@staff_required
def family_create_view(request: HttpRequest) -> HttpResponse:
    """A new family with its first parent and, optionally, its first child, in one go."""
    company = request.company
    family_form = FamilyForm(_data(request), prefix="family")
    parent_form = GuardianForm(_data(request), prefix="parent", company=company)
    child_form = OptionalStudentForm(
        _data(request), prefix="child", company=company, now=timezone.now()
    )
    if request.method == "POST":
        valid = [form.is_valid() for form in (family_form, parent_form, child_form)]
        if all(valid):
            try:
                with transaction.atomic():
                    family = family_create(
                        company=company, actor=request.user, **family_form.cleaned_data
                    )
                    guardian_create(family=family, actor=request.user, **parent_form.cleaned_data)
                    if child_form.is_filled:
                        student_create(
                            family=family,
                            actor=request.user,
                            now=timezone.now(),
                            **child_form.cleaned_data,
                        )
            except DomainError as error:
                messages.error(request, _("Nothing was saved: {error}").format(error=error.message))
            else:
                messages.success(
                    request, _("The {family} family is added.").format(family=family.name)
                )
                return redirect("manage:family_detail", family_pk=family.pk)
        else:
            messages.error(request, NOTHING_SAVED)
    return render(
        request,
        "bookings/family_create.html",
        {"family_form": family_form, "parent_form": parent_form, "child_form": child_form},
    )


@staff_required
def family_edit(request: HttpRequest, family_pk: int) -> HttpResponse:
    family = access_object(Family.objects.all(), company=request.company, pk=family_pk)
    form = FamilyForm(_data(request), initial={"name": family.name, "notes": family.notes})
    if request.method == "POST":
        if form.is_valid():
            try:
                family_update(family=family, actor=request.user, **form.cleaned_data)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("Family saved."))
                return redirect("manage:family_detail", family_pk=family.pk)
        else:
            messages.error(request, NOTHING_SAVED)
    return render(
        request,
        "bookings/family_form.html",
        {
            "form": form,
            "family": family,
            "title": _("Edit the {family} family").format(family=family.name),
        },
    )


def _family_form(request, *, form, family, title: str, save, success) -> HttpResponse:
    """The parent and child forms of a family: save through ``save(cleaned_data)``, then back
    to the family page; a refusal or bad input keeps what was typed."""
    if request.method == "POST":
        if form.is_valid():
            try:
                result = save(form.cleaned_data)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, success(result))
                return redirect("manage:family_detail", family_pk=family.pk)
        else:
            messages.error(request, NOTHING_SAVED)
    return render(
        request, "bookings/family_form.html", {"form": form, "family": family, "title": title}
    )


@staff_required
def package_create_view(request: HttpRequest, family_pk: int) -> HttpResponse:
    """PKG-1: record a package of sessions the family bought."""
    family = access_object(Family.objects.all(), company=request.company, pk=family_pk)
    return _family_form(
        request,
        form=PackageForm(
            _data(request), company=request.company, initial={"purchased_on": _today(request)}
        ),
        family=family,
        title=_("Record a package for the {family} family").format(family=family.name),
        save=lambda data: package_sell(family=family, actor=request.user, **data),
        success=lambda package: ngettext(
            "Package of {count} sessions recorded.",
            "Package of {count} sessions recorded.",
            package.sessions,
        ).format(count=package.sessions),
    )


@staff_required
def payment_create_view(request: HttpRequest, family_pk: int) -> HttpResponse:
    """BAL-1: receipt a payment to the family's account."""
    family = access_object(Family.objects.all(), company=request.company, pk=family_pk)
    return _family_form(
        request,
        form=PaymentForm(_data(request), initial={"paid_on": _today(request)}),
        family=family,
        title=_("Record a payment from the {family} family").format(family=family.name),
        save=lambda data: payment_record(family=family, actor=request.user, **data),
        success=lambda payment: _("Payment of {currency} {amount} recorded.").format(
            currency=request.company.currency, amount=payment.amount
        ),
    )


@staff_required
def guardian_create_view(request: HttpRequest, family_pk: int) -> HttpResponse:
    family = access_object(Family.objects.all(), company=request.company, pk=family_pk)
    return _family_form(
        request,
        form=GuardianForm(_data(request), company=request.company),
        family=family,
        title=_("Add a parent to the {family} family").format(family=family.name),
        save=lambda data: guardian_create(family=family, actor=request.user, **data),
        success=lambda guardian: _("{name} is added.").format(name=guardian.full_name),
    )


@staff_required
def guardian_edit(request: HttpRequest, guardian_pk: int) -> HttpResponse:
    guardian = access_object(
        Guardian.objects.select_related("family"), company=request.company, pk=guardian_pk
    )
    return _family_form(
        request,
        form=GuardianForm(_data(request), company=request.company, guardian=guardian),
        family=guardian.family,
        title=_("Edit {name}").format(name=guardian.full_name),
        save=lambda data: guardian_update(guardian=guardian, actor=request.user, **data),
        success=lambda saved: _("Parent saved."),
    )


@require_POST
@staff_required
def guardian_invite_view(request: HttpRequest, guardian_pk: int) -> HttpResponse:
    """Invite a parent to the portal (MKP-9): the e-mail goes out after commit."""
    guardian = access_object(Guardian.objects.all(), company=request.company, pk=guardian_pk)
    try:
        if guardian.email:  # without one the service says what to do
            ratelimit.limit_invitation(request, email=guardian.email, now=timezone.now())
        guardian = guardian_invite(guardian=guardian, actor=request.user, now=timezone.now())
    except ratelimit.RateLimited as error:
        messages.error(request, error.message)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Invitation e-mailed to {name} ({email}).").format(
                name=guardian.full_name, email=guardian.email
            ),
        )
    return redirect("manage:family_detail", family_pk=guardian.family_id)


@staff_required
def student_create_view(request: HttpRequest, family_pk: int) -> HttpResponse:
    family = access_object(Family.objects.all(), company=request.company, pk=family_pk)
    return _family_form(
        request,
        form=StudentForm(
            _data(request),
            company=request.company,
            now=timezone.now(),
            initial={"last_name": family.name},
        ),
        family=family,
        title=_("Add a child to the {family} family").format(family=family.name),
        save=lambda data: student_create(
            family=family, actor=request.user, now=timezone.now(), **data
        ),
        success=lambda student: _("{name} is added.").format(name=student),
    )


@staff_required
def student_edit(request: HttpRequest, student_pk: int) -> HttpResponse:
    student = access_object(
        Student.objects.select_related("family"), company=request.company, pk=student_pk
    )
    return _family_form(
        request,
        form=StudentForm(
            _data(request), company=request.company, now=timezone.now(), student=student
        ),
        family=student.family,
        title=_("Edit {name}").format(name=student),
        save=lambda data: student_update(
            student=student, actor=request.user, now=timezone.now(), **data
        ),
        success=lambda saved: _("Child saved."),
    )


# --- CSV import -----------------------------------------------------------------------------


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


# --- accepting an invitation (no company: /accounts/) -----------------------------------


class InviteAcceptView(auth_views.PasswordResetConfirmView):
    """The invitation link: an invited parent chooses a password, which confirms their
    e-mail (the link came to it) and logs them in; landing takes them to their portal."""

    template_name = "bookings/family_invite_accept.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("landing")

    def form_valid(self, form):
        user = form.user
        if user.email_confirmed_at is None:
            user.email_confirmed_at = timezone.now()  # saved with the password by the form
        messages.success(self.request, _("Welcome! Your password is set."))
        return super().form_valid(form)
