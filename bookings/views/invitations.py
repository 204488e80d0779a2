"""Accepting an invitation to the portal (no company: mounted under /accounts/)."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _

from ..services.families import parent_accept_invitation


class InviteAcceptView(auth_views.PasswordResetConfirmView):
    """The invitation link: an invited parent chooses a password, which confirms their
    e-mail (the link came to it) and logs them in; landing takes them to their portal."""

    template_name = "bookings/family_invite_accept.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("landing")

    def form_valid(self, form):
        parent_accept_invitation(user=form.user, now=timezone.now())
        messages.success(self.request, _("Welcome! Your password is set."))
        return super().form_valid(form)
