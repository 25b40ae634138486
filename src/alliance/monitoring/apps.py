from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "alliance.monitoring"
    label = "monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alliance.clients import panels
        from alliance.core.audit import register_record_type
        from alliance.monitoring.views import client_alerts_panel

        register_record_type("safety_alert", "a safety alert about your answers")
        register_record_type("alert", "an alert for your care team")
        panels.register(
            panels.Panel("alerts", "monitoring/_client_alerts_panel.html", client_alerts_panel, order=0)
        )
