from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MakeupsConfig(AppConfig):
    name = "makeups"
    verbose_name = _("Make-ups")

    def ready(self) -> None:
        from bookings import hooks as booking_hooks
        from credits import hooks as credit_hooks
        from makeup.hooks import register_today_item

        from . import receivers
        from .selectors.slots import expiry_offers
        from .selectors.today import today_watched_sessions
        from .selectors.watchfill import freed_places_notice

        # After credits' own listener (credits is installed first): the credit is decided,
        # then a freed place goes to the first watcher in line (BEY-2).
        booking_hooks.register_attendance_listener(
            receivers.fill_watches_after_attendance,
            batch=receivers.fill_watches_after_attendances,
        )
        booking_hooks.register_withdrawal_listener(receivers.fill_watches_after_withdrawal)
        booking_hooks.register_session_cancel_listener(
            receivers.cancel_makeups_of_cancelled_session,
            batch=receivers.cancel_makeups_of_cancelled_sessions,
        )
        booking_hooks.register_freed_places_notice(freed_places_notice)
        credit_hooks.register_expiry_offers(expiry_offers)
        # The Today page (DAY-2): full sessions that families watch.
        register_today_item(today_watched_sessions)
