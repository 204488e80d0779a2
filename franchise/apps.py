from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FranchiseConfig(AppConfig):
    name = "franchise"
    verbose_name = _("Franchise: make-ups across companies")

    def ready(self) -> None:
        from bookings import hooks
        from makeups import hooks as makeup_hooks

        from .selectors import partners

        makeup_hooks.register_partner_rules(partners.partner_rules)
        makeup_hooks.register_partner_companies(partners.approved_partner_ids)
        hooks.register_guest_contacts(partners.guest_contacts)
