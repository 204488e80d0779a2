from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"

    def ready(self) -> None:
        from bookings import hooks
        from programmes import hooks as programme_hooks

        from . import receivers
        from .selectors.credits import family_credits_panel

        hooks.register_cancellation_classifier(receivers.classify_client_cancellation)
        hooks.register_attendance_listener(receivers.decide_credit)
        hooks.register_family_panel(family_credits_panel)

        # The attendance view shows each student's credit decision (POL-9).
        hooks.register_roster_prefetch("credit_decisions")
        programme_hooks.register_programme_created(receivers.default_policy)
