from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "alliance.supervision"
    label = "supervision"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alliance.clients.panels import Panel, register
        from alliance.supervision.views import journal_panel_context

        register(
            Panel("journal", "supervision/_journal_panel.html", journal_panel_context, order=70)
        )
