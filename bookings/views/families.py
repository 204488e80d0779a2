"""Back-office pages for families, parents and children, their packages and payments, and
parent invitations to the portal. Thin: parse, call a service or selector, render."""

from datetime import date

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from makeup import ratelimit
from makeup.errors import DomainError
from makeup.notifications.selectors import family_messages
from makeup.tenancy import access_object, staff_required

from .. import hooks
from ..forms import (
    NOTHING_SAVED,
    FamilyForm,
    FamilySearchForm,
    GuardianForm,
    OptionalStudentForm,
    PackageForm,
    PaymentForm,
    StudentForm,
)
from ..models import Family, Guardian, Student
from ..selectors.account import family_statement
from ..selectors.families import family_list_page, family_page
from ..services.account import payment_record
from ..services.families import (
    family_create_with_members,
    family_update,
    guardian_create,
    guardian_invite,
    guardian_update,
    student_create,
    student_update,
)
from ..services.packages import package_sell


def _today(request: HttpRequest) -> date:
    return timezone.localdate(timezone=request.company.tzinfo)


def _data(request: HttpRequest):
    return request.POST if request.method == "POST" else None


@staff_required
def family_list(request: HttpRequest) -> HttpResponse:
    """Families with their parents, children and active enrolments; searchable (TEN-2); with
    ``?blocked=1`` only those the balance gate blocks now (the Today page's link, DAY-2)."""
    form = FamilySearchForm(request.GET)
    valid = form.is_valid()
    q = form.cleaned_data["q"] if valid else ""
    blocked = valid and form.cleaned_data["blocked"]
    page = family_list_page(
        company=request.company,
        q=q,
        page=request.GET.get("page"),
        today=_today(request),
        blocked_at=timezone.now() if blocked else None,
    )
    return render(
        request,
        "bookings/family_list.html",
        {"form": form, "page": page, "q": q, "blocked": blocked},
    )


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
            # NTF-4: the last messages to the family and whether they arrived.
            "family_messages": family_messages(company=request.company, family_id=family.pk),
        },
    )


@staff_required
def family_create_view(request: HttpRequest) -> HttpResponse:
    """A new family with its first parent and, optionally, its first child, in one go."""
    company = request.company
    family_form = FamilyForm(_data(request), prefix="family")
    parent_form = GuardianForm(_data(request), prefix="parent", company=company)
    now = timezone.now()
    child_form = OptionalStudentForm(_data(request), prefix="child", company=company, now=now)
    if request.method == "POST":
        valid = [form.is_valid() for form in (family_form, parent_form, child_form)]
        if all(valid):
            try:
                family = family_create_with_members(
                    company=company,
                    family=family_form.cleaned_data,
                    parent=parent_form.cleaned_data,
                    child=child_form.cleaned_data if child_form.is_filled else None,
                    actor=request.user,
                    now=now,
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
                family_update(
                    family=family, actor=request.user, now=timezone.now(), **form.cleaned_data
                )
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
        save=lambda data: guardian_update(
            guardian=guardian, actor=request.user, now=timezone.now(), **data
        ),
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
