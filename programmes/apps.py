from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "programmes"

    def ready(self) -> None:
        from makeup.hooks import register_today_item
        from makeup.models import Role

        from .selectors.today import today_next_closure

        # The Today page (DAY-2): the next closure, for admins (they keep the calendar).
        register_today_item(today_next_closure, role=Role.ADMIN)
