from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"

    def ready(self) -> None:
        from bookings import hooks
        from makeup.hooks import register_today_item
        from makeup.models import Role
        from programmes import hooks as programme_hooks

        from . import receivers
        from .selectors import today
        from .selectors.credits import family_credits_panel

        hooks.register_cancellation_classifier(receivers.classify_client_cancellation)
        hooks.register_attendance_listener(receivers.decide_credit, batch=receivers.decide_credits)
        hooks.register_family_panel(family_credits_panel)

        # The attendance view shows each student's credit decision (POL-9).
        hooks.register_roster_prefetch("credit_decisions")
        programme_hooks.register_programme_created(receivers.default_policy)
        # The Today page (DAY-2); only admins mark a flagged correction reviewed.
        register_today_item(today.today_open_claims)
        register_today_item(today.today_flagged_decisions, role=Role.ADMIN)
        register_today_item(today.today_expiring_credits)
