"""Back-office pages for classes: the list (staff look), create, edit, archive (admins
configure, TEN-2)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from makeup.errors import DomainError
from makeup.tenancy import access_object, admin_required, staff_required

from ..forms import NOTHING_SAVED, ClassFilterForm, ClassForm, schedule_formset_class
from ..models import Class
from ..selectors import class_list as select_class_list
from ..services import class_create, class_set_archived, class_update

REGENERATION_NOTE = gettext_lazy(
    "Changing the schedule or the dates regenerates future sessions. Sessions that already "
    "took place, one-off sessions, and sessions that already have attendance or bookings are "
    "kept."
)


@staff_required
def class_list(request: HttpRequest) -> HttpResponse:
    company = request.company
    filter_form = ClassFilterForm(request.GET or None, company=company)
    today = timezone.localdate(timezone=company.tzinfo)
    classes = select_class_list(company=company, today=today, **filter_form.filters())
    can_configure = request.membership.is_admin
    return render(
        request,
        "programmes/class_list.html",
        {
            "filter_form": filter_form,
            "classes": classes,
            "can_configure": can_configure,
            "class_link": _class_link_name(can_configure=can_configure),
        },
    )


def _class_link_name(*, can_configure: bool) -> str | None:
    """Where a class name links: its detail page once that page exists, else (for admins)
    its edit page."""
    try:
        reverse("manage:class_detail", kwargs={"class_pk": 1})
    except NoReverseMatch:
        return "manage:class_edit" if can_configure else None
    return "manage:class_detail"


def _class_form_page(request: HttpRequest, klass: Class | None) -> HttpResponse:
    company = request.company
    instance = klass if klass is not None else Class(company=company)
    data = request.POST if request.method == "POST" else None
    form = ClassForm(data, instance=instance, company=company)
    formset = schedule_formset_class(extra=1 if klass else 3)(
        data, instance=instance, prefix="schedule"
    )
    title = klass.name if klass else _("New class")
    if request.method == "POST":
        form_ok = form.is_valid()
        formset_ok = formset.is_valid()  # both run, so every error shows at once
        if form_ok and formset_ok:
            values, slots = form.class_values(), formset.slots()
            try:
                if klass is None:
                    saved, result = class_create(
                        company=company, schedule=slots, now=timezone.now(), **values
                    )
                else:
                    saved, result = class_update(
                        klass=klass, schedule=slots, now=timezone.now(), **values
                    )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                if klass is None:
                    text = _("Class {name} created: {result}")
                else:
                    text = _("Class {name} saved: {result}")
                messages.success(request, text.format(name=saved.name, result=result.message))
                if klass is None and _class_link_name(can_configure=True) == "manage:class_detail":
                    # A new class is opened next: its sessions, then enrolling students.
                    return redirect("manage:class_detail", class_pk=saved.pk)
                return redirect("manage:class_list")
        else:
            messages.error(request, NOTHING_SAVED)
    return render(
        request,
        "programmes/class_form.html",
        {
            "form": form,
            "formset": formset,
            "klass": klass,
            "title": title,
            "regeneration_note": REGENERATION_NOTE,
        },
    )


@admin_required
def class_create_view(request: HttpRequest) -> HttpResponse:
    return _class_form_page(request, None)


@admin_required
def class_edit(request: HttpRequest, class_pk: int) -> HttpResponse:
    klass = access_object(
        Class.objects.select_related("programme"), company=request.company, pk=class_pk
    )
    return _class_form_page(request, klass)


@require_POST
@admin_required
def class_archive(request: HttpRequest, class_pk: int) -> HttpResponse:
    """Archive a class (its future sessions without attendance or bookings go), or bring
    it back (its sessions are generated again)."""
    klass = access_object(Class.objects.all(), company=request.company, pk=class_pk)
    archive = not klass.is_archived
    try:
        klass, result = class_set_archived(now=timezone.now(), klass=klass, archived=archive)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if archive:
            text = _("Class {name} archived: {result}")
        else:
            text = _("Class {name} brought back: {result}")
        messages.success(request, text.format(name=klass.name, result=result.message))
    return redirect("manage:class_list")
