from django.apps import AppConfig


class TranscriptsConfig(AppConfig):
    name = "alliance.transcripts"
    label = "transcripts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alliance.clients.panels import Panel, register

        register(Panel("transcripts", "transcripts/_client_panel.html", panel_context, order=60))


def panel_context(request, client):  # type: ignore[no-untyped-def]
    from alliance.transcripts.models import Transcript

    if not client.care_team.filter(therapist=request.user).exists():
        return None
    return {
        "client": client,
        "transcripts": Transcript.objects.filter(client=client, uploaded_by=request.user).select_related("session")[:10],
        "recording_consent": client.has_consent("recording"),
    }
