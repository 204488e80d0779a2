from django.apps import AppConfig


class FranchiseConfig(AppConfig):
    name = "franchise"
    verbose_name = "Franchise: make-ups across companies"

    def ready(self) -> None:
        from bookings import hooks
        from credits import eligibility

        from . import partners

        eligibility.register_partner_rules(partners.partner_rules)
        hooks.register_guest_contacts(partners.guest_contacts)
