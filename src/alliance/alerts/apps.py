from django.apps import AppConfig
from django.utils.translation import gettext_noop


class AlertsConfig(AppConfig):
    name = "alliance.alerts"
    label = "alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alliance.core.audit import register_record_type

        register_record_type("safety_alert", gettext_noop("a safety alert about your answers"))
        register_record_type("alert", gettext_noop("an alert for your care team"))
