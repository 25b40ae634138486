from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alliance.alerts"
    label = "alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alliance.core.audit import register_record_type

        register_record_type("safety_alert", "a safety alert about your answers")
        register_record_type("alert", "an alert for your care team")
