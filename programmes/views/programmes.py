"""Back-office pages for programmes: the list, create, edit, archive (admins configure,
TEN-2)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from makeup.errors import DomainError
from makeup.tenancy import access_object, admin_required

from ..forms import NOTHING_SAVED, ProgrammeForm
from ..models import Programme
from ..selectors import programme_list as select_programme_list
from ..services import programme_create, programme_set_archived, programme_update


@admin_required
def programme_list(request: HttpRequest) -> HttpResponse:
    programmes = list(select_programme_list(company=request.company))
    return render(
        request,
        "programmes/programme_list.html",
        {
            "active_programmes": [p for p in programmes if not p.is_archived],
            "archived_programmes": [p for p in programmes if p.is_archived],
        },
    )


def _programme_form_page(request: HttpRequest, programme: Programme | None) -> HttpResponse:
    company = request.company
    form = ProgrammeForm(request.POST or None, instance=programme, company=company)
    title = programme.name if programme else _("New programme")
    if request.method == "POST":
        if form.is_valid():
            values = {field: form.cleaned_data[field] for field in form.Meta.fields}
            try:
                if programme is None:
                    saved = programme_create(company=company, **values)
                else:
                    saved = programme_update(
                        programme=programme, now=timezone.now(), actor=request.user, **values
                    )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                if programme is None:
                    text = _("Programme {name} created.")
                else:
                    text = _("Programme {name} saved.")
                messages.success(request, text.format(name=saved.name))
                return redirect("manage:programme_list")
        else:
            messages.error(request, NOTHING_SAVED)
    return render(
        request,
        "programmes/programme_form.html",
        {"form": form, "programme": programme, "title": title},
    )


@admin_required
def programme_create_view(request: HttpRequest) -> HttpResponse:
    return _programme_form_page(request, None)


@admin_required
def programme_edit(request: HttpRequest, programme_pk: int) -> HttpResponse:
    programme = access_object(Programme.objects.all(), company=request.company, pk=programme_pk)
    return _programme_form_page(request, programme)


@require_POST
@admin_required
def programme_archive(request: HttpRequest, programme_pk: int) -> HttpResponse:
    """Archive an active programme, or bring back an archived one."""
    programme = access_object(Programme.objects.all(), company=request.company, pk=programme_pk)
    archive = not programme.is_archived
    try:
        programme = programme_set_archived(
            now=timezone.now(), programme=programme, archived=archive
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        archived, back = _("Programme {name} archived."), _("Programme {name} brought back.")
        text = archived if archive else back
        messages.success(request, text.format(name=programme.name))
    return redirect("manage:programme_list")
