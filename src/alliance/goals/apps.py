from django.apps import AppConfig
from django.utils.translation import gettext_noop


class GoalsConfig(AppConfig):
    name = "alliance.goals"
    label = "goals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alliance.clients.panels import CLIENT, STAFF, Panel, register
        from alliance.core.audit import register_record_type
        from alliance.goals import panels

        register_record_type("goal", gettext_noop("your goals"))
        register_record_type("task", gettext_noop("your tasks"))
        register(
            Panel("goals", "goals/_staff_panel.html", panels.staff_panel, order=20, audience=STAFF)
        )
        register(
            Panel(
                "my-goals",
                "goals/_client_goals.html",
                panels.client_panel,
                order=20,
                audience=CLIENT,
            )
        )
