from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FranchiseConfig(AppConfig):
    name = "franchise"
    verbose_name = _("Franchise: make-ups across companies")

    def ready(self) -> None:
        from bookings import hooks
        from makeup.hooks import register_today_item
        from makeup.models import Role
        from makeups import hooks as makeup_hooks

        from .selectors import partners
        from .selectors.today import today_pending_invitations

        makeup_hooks.register_partner_rules(partners.partner_rules)
        makeup_hooks.register_partner_companies(partners.approved_partner_ids)
        hooks.register_guest_contacts(partners.guest_contacts)
        # The Today page (DAY-2): only owners answer partner invitations.
        register_today_item(today_pending_invitations, role=Role.OWNER)
