from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "alliance.clients"
    label = "clients"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alliance.clients.refusals import audit_refusal
        from alliance.core.access import access_refused

        access_refused.connect(audit_refusal, dispatch_uid="alliance.clients.audit_refusal")
