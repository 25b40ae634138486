"""The transcripts section of the clinician's client page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from alliance.clients.access import on_care_team
from alliance.core.access import signed_in_user
from alliance.nlp.metrics import trend
from alliance.transcripts.models import Transcript


def staff_panel(request: HttpRequest, client: Any) -> dict[str, Any] | None:
    """The therapist's own transcripts of this client, and their listening trend."""

    if not on_care_team(signed_in_user(request), client):
        return None
    mine = Transcript.objects.filter(
        client=client, uploaded_by=signed_in_user(request)
    ).select_related("session")
    analysed = [
        t.metrics
        for t in mine.filter(status=Transcript.Status.DONE).order_by("session__number")
        if t.metrics
    ]
    labels = {
        "reflection_to_question": _("Reflections per question"),
        # xgettext:no-python-format
        "percent_complex_reflections": _("Complex reflections (%)"),
        # xgettext:no-python-format
        "percent_open_questions": _("Open questions (%)"),
        # xgettext:no-python-format
        "change_talk_share": _("Client change talk (% of change + sustain)"),
    }
    rows = []
    if len(analysed) >= 2:
        metrics = trend(analysed)["metrics"]
        rows = [{"label": label, **metrics[key]} for key, label in labels.items() if key in metrics]
    return {
        "client": client,
        "transcripts": mine[:10],
        "recording_consent": client.has_consent("recording"),
        "trend": rows,
        "sessions_analysed": len(analysed),
    }
