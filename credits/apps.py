from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"

    def ready(self) -> None:
        from bookings import hooks

        from . import receivers

        hooks.register_cancellation_classifier(receivers.classify_client_cancellation)
        hooks.register_attendance_listener(receivers.decide_credit)
        receivers.connect()
