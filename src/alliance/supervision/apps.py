from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "alliance.supervision"
    label = "supervision"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alliance.clients.panels import Panel, register
        from alliance.monitoring.signals import supervisors_wanted
        from alliance.supervision.models import supervisors_of
        from alliance.supervision.views import journal_panel_context

        supervisors_wanted.connect(supervisors_of, dispatch_uid="supervision")

        register(
            Panel("journal", "supervision/_journal_panel.html", journal_panel_context, order=70)
        )
