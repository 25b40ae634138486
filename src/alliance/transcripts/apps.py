from django.apps import AppConfig


class TranscriptsConfig(AppConfig):
    name = "alliance.transcripts"
    label = "transcripts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alliance.clients.panels import Panel, register
        from alliance.transcripts.panels import staff_panel

        register(Panel("transcripts", "transcripts/_client_panel.html", staff_panel, order=60))
