from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"

    def ready(self) -> None:
        from programmes.hooks import register_protecting_relation

        # A session with attendance rows or make-up bookings (both PROTECT it) is never
        # removed by schedule regeneration.
        register_protecting_relation("attendances")
        register_protecting_relation("makeup_bookings")
