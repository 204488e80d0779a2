"""Back office: a closure's page, where an admin sees what applying it would do, applies it,
and follows the background run (CLO-3, CLO-7). Thin: read, call the service, render."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from makeup.errors import DomainError
from makeup.tenancy import access_object, admin_required
from programmes.models import Closure, ClosureRun

from ..selectors.closures import closure_outcome, closure_preview, closure_runs
from ..services import closure_apply_request, closure_remove_request


def _closure(request: HttpRequest, closure_pk: int) -> Closure:
    return access_object(
        Closure.objects.select_related("company").prefetch_related("programmes"),
        company=request.company,
        pk=closure_pk,
    )


def _progress(closure: Closure) -> dict:
    """The latest run with its progress, the result so far and the earlier runs."""
    runs = closure_runs(closure)
    latest = runs[0] if runs else None
    return {
        "closure": closure,
        "run": latest,
        "running": latest is not None
        and latest.state in (ClosureRun.State.QUEUED, ClosureRun.State.RUNNING),
        "outcome": closure_outcome(closure) if latest is not None else None,
        "runs": runs,
    }


@require_GET
@admin_required
def closure_detail(request: HttpRequest, closure_pk: int) -> HttpResponse:
    """A closure, what applying it now would do (per programme), the "Apply" button with its
    confirmation, then the run's progress and the runs so far."""
    closure = _closure(request, closure_pk)
    context = _progress(closure)
    context["preview"] = closure_preview(closure=closure, now=timezone.now())
    return render(request, "makeups/closure_detail.html", context)


@require_GET
@admin_required
def closure_run_progress(request: HttpRequest, closure_pk: int) -> HttpResponse:
    """The progress part of the closure's page, polled by htmx every second while the run
    waits or runs (it stops polling once the run is over)."""
    closure = _closure(request, closure_pk)
    return render(request, "makeups/_closure_progress.html", _progress(closure))


@require_POST
@admin_required
def closure_apply_view(request: HttpRequest, closure_pk: int) -> HttpResponse:
    """ "Apply: cancel these lessons" (and "Run again"): after the admin ticked the
    confirmation, the run is queued; the page then follows it."""
    closure = _closure(request, closure_pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm: nothing was cancelled."))
        return redirect("manage:closure_detail", closure_pk=closure.pk)
    try:
        closure_apply_request(closure=closure, actor=request.user, now=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _(
                "Applying {name}: its lessons are being cancelled. This page shows how far it got."
            ).format(name=closure.name),
        )
    return redirect("manage:closure_detail", closure_pk=closure.pk)


@require_POST
@admin_required
def closure_remove_view(request: HttpRequest, closure_pk: int) -> HttpResponse:
    """ "Remove this closure": with cancelled lessons the admin chose whether to restore
    them (CLO-6); a background run does it and the page follows it."""
    closure = _closure(request, closure_pk)
    restore = request.POST.get("restore") == "yes"
    try:
        closure_remove_request(
            closure=closure, restore=restore, actor=request.user, now=timezone.now()
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("{name} is removed: its lessons are being restored.").format(name=closure.name)
            if restore
            else _("{name} is removed: its days are open again.").format(name=closure.name),
        )
    return redirect("manage:closure_detail", closure_pk=closure.pk)
