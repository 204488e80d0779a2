from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"

    def ready(self) -> None:
        from makeup.hooks import register_family_recipients, register_today_item
        from programmes.hooks import register_protecting_relation, register_sessions_created

        from . import receivers
        from .selectors.families import family_recipients
        from .selectors.today import today_blocked_families, today_sessions

        # A session with attendance rows or make-up bookings (both PROTECT it) is never
        # removed by schedule regeneration.
        register_protecting_relation("attendances")
        register_protecting_relation("makeup_bookings")
        # The Today page (DAY-2): the day's sessions and their roll call, blocked families.
        register_today_item(today_sessions)
        register_today_item(today_blocked_families)
        # A session's places taken follow every write that changes them (MKP-7).
        register_sessions_created(receivers.count_generated_sessions)
        # NTF-1: who the notification service writes to.
        register_family_recipients(family_recipients)
