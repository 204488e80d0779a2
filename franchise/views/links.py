"""Partner companies (FRN-1): invite a company by e-mail, the links on both sides, approve,
decline or end one, and the answer page of an e-mailed invitation. Only owners manage links
(TEN-2)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from makeup import ratelimit
from makeup.errors import DomainError
from makeup.tenancy import SESSION_COMPANY_KEY, owner_required

from ..forms import InviteForm
from ..models import CompanyLink
from ..selectors.links import access_link, companies_owned_by, links_by_state
from ..services import is_owner, link_approve, link_decline, link_end, link_from_token, link_invite

# --- partner companies (FRN-1) ---------------------------------------------------------------


@owner_required
def partners(request: HttpRequest) -> HttpResponse:
    """Invite a company by e-mail; the links on both sides, by state."""
    company = request.company
    form = InviteForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            now = timezone.now()
            try:
                ratelimit.limit_invitation(request, email=form.cleaned_data["email"], now=now)
                link = link_invite(
                    company=company,
                    email=form.cleaned_data["email"],
                    message=form.cleaned_data["message"],
                    actor=request.user,
                    now=now,
                )
            except ratelimit.RateLimited as error:
                form.add_error("email", error.message)
            except DomainError as error:
                form.add_error("email", error.message)
            else:
                who = link.invitee.name if link.invitee else link.invitee_email
                messages.success(
                    request,
                    _("Invitation sent to %(who)s (%(email)s).")
                    % {"who": who, "email": link.invitee_email},
                )
                return redirect("manage:franchise")
        messages.error(request, _("No invitation was sent: please correct the fields below."))
    return render(request, "franchise/partners.html", {"form": form, **links_by_state(company)})


def _link_action(request: HttpRequest, link_pk: int, service, done: str) -> HttpResponse:
    link = access_link(company=request.company, link_pk=link_pk)
    try:
        link = service(link=link, company=request.company, actor=request.user, now=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done % {"partner": link.other(request.company.pk) or link})
    return redirect("manage:franchise")


@require_POST
@owner_required
def link_approve_view(request: HttpRequest, link_pk: int) -> HttpResponse:
    return _link_action(
        request,
        link_pk,
        link_approve,
        _(
            "You are now linked with %(partner)s: you take each "
            "other's make-ups. Set your incoming restrictions below if you need any."
        ),
    )


@require_POST
@owner_required
def link_decline_view(request: HttpRequest, link_pk: int) -> HttpResponse:
    return _link_action(request, link_pk, link_decline, _("Invitation from %(partner)s declined."))


@require_POST
@owner_required
def link_end_view(request: HttpRequest, link_pk: int) -> HttpResponse:
    link = access_link(company=request.company, link_pk=link_pk)
    done = (
        _("Invitation cancelled.")
        if link.state == CompanyLink.State.PENDING
        else _("The link with %(partner)s has ended. Make-ups already booked stay as they are.")
    )
    return _link_action(request, link_pk, link_end, done)


# --- the e-mailed invitation (FRN-1) ---------------------------------------------------------


def _invitation_problem(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "franchise/invitation_problem.html", {"problem": message}, status=status)


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The page of the link in the invitation e-mail. It works from whichever company the
    user is working in now: the token says which link, and the answer is given for the
    invited company (or, when the invitation named none, one the user owns). Links and
    companies are not scoped, so no scope is needed to read them here.

    Anonymous visitors are offered to log in or to create their company; a logged-in user who
    does not own the invited company gets 404, with a page that says so.
    """
    try:
        link = link_from_token(token)
    except DomainError as error:
        status = 404 if error.code == "invalid" else 410
        return _invitation_problem(request, error.message, status)
    here = request.get_full_path()
    signup = f"{reverse('company_signup')}?{urlencode({'invitation': token})}"
    context = {"link": link, "signup_url": signup}
    if not request.user.is_authenticated:
        context["login_url"] = f"{reverse('login')}?{urlencode({'next': here})}"
        return render(request, "franchise/invitation_login.html", context)
    if link.invitee is not None:
        if not is_owner(user=request.user, company=link.invitee):
            return _invitation_problem(
                request,
                _(
                    "This invitation is for %(company)s. Only an owner of "
                    "%(company)s can answer it: log in with their account."
                )
                % {"company": link.invitee.name},
                404,
            )
        choices = [link.invitee]
    else:
        choices = companies_owned_by(request.user, exclude=link.inviter_id)
    context["choices"] = choices
    if not choices:
        return render(request, "franchise/invitation.html", context)
    if request.method == "POST":
        action = request.POST.get("action")
        chosen = next((c for c in choices if str(c.pk) == request.POST.get("company")), None)
        if len(choices) == 1:
            chosen = choices[0]
        if action not in ("approve", "decline") or chosen is None:
            messages.error(request, _("Choose your company and approve or decline."))
        else:
            service = link_approve if action == "approve" else link_decline
            try:
                service(link=link, company=chosen, actor=request.user, now=timezone.now())
            except DomainError as error:
                messages.error(request, error.message)
            else:
                # Show the result in the company that answered.
                request.session[SESSION_COMPANY_KEY] = chosen.pk
                if action == "approve":
                    messages.success(
                        request,
                        _(
                            "%(company)s and %(partner)s are now linked: you take each "
                            "other's make-ups."
                        )
                        % {"company": chosen.name, "partner": link.inviter.name},
                    )
                else:
                    messages.info(
                        request,
                        _("You declined the invitation of %(partner)s.")
                        % {"partner": link.inviter.name},
                    )
                return redirect("manage:franchise")
    return render(request, "franchise/invitation.html", context)
