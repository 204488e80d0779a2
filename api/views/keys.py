"""The owners' page of API keys (API-1): make a key (shown once), see when each was last
used, revoke one. Only owners (TEN-2); another company's key answers 404 (TEN-1)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from makeup.errors import DomainError
from makeup.tenancy import access_object, owner_required

from ..forms import ApiKeyForm
from ..models import ApiKey
from ..services import api_key_create, api_key_revoke


def _keys(company) -> list[ApiKey]:
    return list(ApiKey.objects.filter(company=company).select_related("created_by", "revoked_by"))


@owner_required
def key_list(request: HttpRequest) -> HttpResponse:
    """The company's keys and a form for a new one; a new key is shown on this answer only."""
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST":
        if form.is_valid():
            try:
                key, new_key = api_key_create(
                    company=request.company,
                    name=form.cleaned_data["name"],
                    access=form.cleaned_data["access"],
                    actor=request.user,
                    now=timezone.now(),
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                form = ApiKeyForm()
        if new_key is None:
            messages.error(request, _("No key was made: please correct the fields below."))
    return render(
        request,
        "api/keys.html",
        {"form": form, "keys": _keys(request.company), "new_key": new_key},
    )


@require_POST
@owner_required
def key_revoke(request: HttpRequest, key_pk: int) -> HttpResponse:
    key = access_object(ApiKey.objects.all(), company=request.company, pk=key_pk)
    try:
        api_key_revoke(key=key, actor=request.user, now=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The key “%(name)s” no longer works.") % {"name": key.name})
    return redirect("manage:api_keys")
