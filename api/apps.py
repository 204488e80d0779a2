from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API and webhooks")

    def ready(self) -> None:
        from bookings import hooks as booking_hooks
        from credits import hooks as credit_hooks
        from makeups import hooks as makeup_hooks

        from . import receivers

        # API-4: the webhooks hear of what happens, inside each change's transaction.
        credit_hooks.register_event_listener(receivers.credits_changed)
        makeup_hooks.register_event_listener(receivers.makeups_changed)
        booking_hooks.register_attendance_listener(
            receivers.attendance_changed, batch=receivers.attendances_changed
        )
        booking_hooks.register_withdrawal_listener(receivers.enrolment_withdrawn)
        booking_hooks.register_session_cancel_listener(
            receivers.session_cancelled, batch=receivers.sessions_cancelled
        )
