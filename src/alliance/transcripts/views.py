"""Upload a transcript, confirm who is who, and read private feedback on the session."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from django.views.decorators.http import require_POST

from alliance.accounts.models import Role
from alliance.clients.access import client_or_404, clinical_staff, owned_or_404
from alliance.clients.models import ClientRecord, TherapySession
from alliance.core import audit
from alliance.core.access import signed_in_user, staff, staff_membership
from alliance.core.http import HtmxHttpRequest
from alliance.core.worker import task_progress
from alliance.nlp.analyze import CORRECTIONS, current_code
from alliance.nlp.model import reliability
from alliance.nlp.roles import guess_roles
from alliance.nlp.transcripts import TranscriptError, decode, parse_transcript
from alliance.transcripts import tasks
from alliance.transcripts.corrections import save_correction
from alliance.transcripts.forms import SpeakerForm, TranscriptSettingsForm, TranscriptUploadForm
from alliance.transcripts.models import Transcript, TranscriptSettings

audit.register_record_type("transcript", gettext_noop("a session transcript"))
audit.register_record_type("transcript_feedback", gettext_noop("feedback on a session transcript"))


@clinical_staff
def upload(request: HttpRequest, client_id: str) -> HttpResponse:
    client = client_or_404(request, client_id, write=True, record_type="transcript", action="")
    if not client.has_consent("recording"):
        return render(request, "transcripts/no_consent.html", {"client": client}, status=409)
    # Only sessions that have taken place (up to the end of the uploader's today) can have a transcript.
    tomorrow = datetime.combine(
        timezone.localdate() + timedelta(days=1), time(0, 0), timezone.get_current_timezone()
    )
    sessions = TherapySession.objects.filter(client=client, scheduled_at__lt=tomorrow).order_by(
        "-number"
    )
    form = TranscriptUploadForm(request.POST or None, request.FILES or None, sessions=sessions)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            text = decode(upload_file.read())
            parsed = parse_transcript(text, upload_file.name)
        except TranscriptError as exc:
            form.add_error(
                "file",
                _("This file could not be read: %(error)s. Nothing was stored.") % {"error": exc},
            )
        else:
            with transaction.atomic():
                session: TherapySession | None
                if form.cleaned_data["session"] == "new":
                    when = datetime.combine(
                        form.cleaned_data["session_date"],
                        time(12, 0),
                        timezone.get_current_timezone(),
                    )
                    session = TherapySession.objects.create(
                        clinic=client.clinic,
                        client=client,
                        therapist=signed_in_user(request),
                        number=TherapySession.next_number(client),
                        scheduled_at=when,
                        status=TherapySession.Status.ATTENDED,
                    )
                else:
                    session = sessions.filter(pk=form.cleaned_data["session"]).first()
                    if session is None:
                        raise Http404
                transcript = Transcript.objects.create(
                    clinic=client.clinic,
                    client=client,
                    session=session,
                    uploaded_by=signed_in_user(request),
                    filename=upload_file.name[:200],
                    file_format=parsed.format,
                    text=text,
                    speakers=json.dumps(guess_roles(parsed)),
                )
                audit.record_request(request, "create", "transcript", client=client)
            return redirect("transcript_speakers", client_id=client.pk, transcript_id=transcript.pk)
    return render(request, "transcripts/upload.html", {"client": client, "form": form})


@clinical_staff
def speakers(request: HttpRequest, client_id: str, transcript_id: str) -> HttpResponse:
    client = client_or_404(request, client_id, record_type="transcript", action="")
    # Feedback is private to the therapist who uploaded the transcript.
    transcript, _owner = owned_or_404(
        request,
        Transcript.objects.filter(uploaded_by=signed_in_user(request)),
        transcript_id,
        client=client,
    )
    if transcript.status != Transcript.Status.NEEDS_ROLES:
        return redirect("transcript_feedback", client_id=client.pk, transcript_id=transcript.pk)
    roles = transcript.speaker_roles()
    guessed = next((name for name, role in roles.items() if role == "therapist"), None)
    form = SpeakerForm(request.POST or None, speakers=list(roles), initial={"therapist": guessed})
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            updated = Transcript.objects.filter(
                pk=transcript.pk, status=Transcript.Status.NEEDS_ROLES
            ).update(
                therapist_speaker=form.cleaned_data["therapist"], status=Transcript.Status.QUEUED
            )
            if updated:  # a double submit enqueues once
                transaction.on_commit(lambda: _enqueue_analysis(transcript.pk))
        return redirect("transcript_feedback", client_id=client.pk, transcript_id=transcript.pk)
    return render(
        request,
        "transcripts/speakers.html",
        {"client": client, "transcript": transcript, "form": form},
    )


def _enqueue_analysis(transcript_id: uuid.UUID) -> None:
    result = tasks.analyse_transcript.enqueue(str(transcript_id))
    Transcript.objects.filter(pk=transcript_id).update(analysis_task_id=result.id)


MEASURES = (
    ("reflection_to_question", "Reflections per question", 3.0, ":1"),
    ("percent_complex_reflections", "Complex reflections (%)", 100.0, "%"),
    ("percent_open_questions", "Open questions (%)", 100.0, "%"),
)


def _scale_pos(value: float, top: float) -> float:
    """Where a value sits on a 0..top scale drawn 0..100 wide (values past the top are clamped)."""
    return round(100.0 * min(max(value, 0.0), top) / top, 1)


def _measure_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Each rated summary with its interval placed on the threshold scale, for the feedback page.

    Summaries stored before intervals existed have no ``interval`` key; they are shown without a
    range rather than as if a range had been computed.
    """
    rows = []
    for key, label, top, unit in MEASURES:
        m = metrics.get(key) or {}
        value, interval = m.get("value"), m.get("interval")
        row: dict[str, Any] = {
            "key": key,
            "label": label,
            "value": value,
            "unit": unit,
            "interval": interval,
            "has_interval_field": "interval" in m,
            "fair": m.get("fair"),
            "good": m.get("good"),
            "level": m.get("level"),
            "reason": m.get("reason"),
            "top": top,
        }
        if m.get("fair") is not None and m.get("good") is not None:
            row["fair_x"] = _scale_pos(float(m["fair"]), top)
            row["good_x"] = _scale_pos(float(m["good"]), top)
            row["fair_w"] = round(row["good_x"] - row["fair_x"], 1)
            row["good_w"] = round(100.0 - row["good_x"], 1)
        if value is not None:
            row["value_x"] = round(min(max(_scale_pos(float(value), top) - 0.6, 0.0), 98.8), 1)
        if interval:
            low, high = _scale_pos(float(interval[0]), top), _scale_pos(float(interval[1]), top)
            row["low_x"], row["span_w"] = low, max(round(high - low, 1), 0.8)
        rows.append(row)
    return rows


def _feedback_context(transcript: Transcript) -> dict[str, Any]:
    data = transcript.analysis_data()
    utterances = data["utterances"] if data else []
    reflections = sorted(
        (u for u in utterances if u["behaviour"] == "reflection"),
        key=lambda u: (
            u["reflection_type"] == "complex",
            u["confidence"].get("reflection_type", 0),
        ),
        reverse=True,
    )[:3]
    closed = [u for u in utterances if u["question_type"] == "closed"][:5]
    for u in utterances:
        u["code_now"] = current_code(u)
        u["choices"] = list(CORRECTIONS.get(u["speaker"], {}))
    return {
        "transcript": transcript,
        "m": transcript.metrics,
        "corrected_count": len(transcript.correction_data()),
        "measures": _measure_rows(transcript.metrics or {}),
        "utterances": utterances,
        "best_reflections": reflections,
        "closed_questions": closed,
        "disclaimer": data["disclaimer"] if data else None,
        "reliability": reliability(transcript.model_version),
        "progress": (
            task_progress(transcript.analysis_task_id)
            if transcript.status == Transcript.Status.QUEUED and transcript.analysis_task_id
            else None
        ),
    }


@clinical_staff
def feedback(request: HtmxHttpRequest, client_id: str, transcript_id: str) -> HttpResponse:
    client = client_or_404(request, client_id, record_type="transcript_feedback")
    # Feedback is private to the therapist who uploaded the transcript.
    transcript, _owner = owned_or_404(
        request,
        Transcript.objects.filter(uploaded_by=signed_in_user(request)),
        transcript_id,
        client=client,
    )
    context = {"client": client, **_feedback_context(transcript)}
    if (
        request.htmx and transcript.status == Transcript.Status.QUEUED
    ):  # still waiting: keep polling
        return render(request, "transcripts/_status_partial.html", context)
    if request.htmx:  # finished while the page was open: load the full page
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "transcripts/feedback.html", context)


def _apply_correction(
    request: HttpRequest, client: ClientRecord, transcript: Transcript
) -> tuple[int | None, str | None]:
    """The posted correction, saved by :func:`save_correction`."""
    return save_correction(
        request, client, transcript, request.POST.get("index", ""), request.POST.get("code", "")
    )


def _saved_notice(index: int | None) -> str:
    return _("Turn %(turn)s corrected; the summary was recomputed.") % {"turn": (index or 0) + 1}


@clinical_staff
def correct(request: HttpRequest, client_id: str, transcript_id: str) -> HttpResponse:
    """The therapist corrects one utterance's code; the summary is recomputed at once.

    The page without JavaScript: POST, then back to the feedback page at the corrected turn.
    """
    client = client_or_404(request, client_id, record_type="transcript_feedback")
    # Feedback is private to the therapist who uploaded the transcript.
    transcript, _owner = owned_or_404(
        request,
        Transcript.objects.filter(uploaded_by=signed_in_user(request)),
        transcript_id,
        client=client,
    )
    if request.method != "POST":
        return redirect("transcript_feedback", client_id=client.pk, transcript_id=transcript.pk)
    index, error = _apply_correction(request, client, transcript)
    if error:
        messages.error(request, error)
        return redirect("transcript_feedback", client_id=client.pk, transcript_id=transcript.pk)
    messages.success(request, _saved_notice(index))
    return redirect(
        reverse("transcript_feedback", args=[client.pk, transcript.pk]) + f"#turn-{index}"
    )


@clinical_staff
@require_POST
def correct_hx(request: HttpRequest, client_id: str, transcript_id: str) -> HttpResponse:
    """The same correction from the page with htmx: answers with the recomputed summary (the
    swap target), and out of band the corrected turn, the examples and a screen-reader notice,
    so the therapist stays where they are in the transcript."""
    client = client_or_404(request, client_id, record_type="transcript_feedback")
    # Feedback is private to the therapist who uploaded the transcript.
    transcript, _owner = owned_or_404(
        request,
        Transcript.objects.filter(uploaded_by=signed_in_user(request)),
        transcript_id,
        client=client,
    )
    index, error = _apply_correction(request, client, transcript)
    transcript.refresh_from_db()
    context = {"client": client, **_feedback_context(transcript), "oob": True}
    turn = next((u for u in context["utterances"] if u["index"] == index), None)
    notice = error or _saved_notice(index)
    return render(
        request,
        "transcripts/_correction_hx.html",
        {**context, "u": turn, "correction_error": error, "notice": notice},
    )


@staff(Role.ADMIN)
def clinic_transcript_settings(request: HttpRequest) -> HttpResponse:
    """Clinic admin: whether transcript text is kept after analysis (and clearing earlier ones)."""
    clinic = staff_membership(request).clinic
    obj = TranscriptSettings.for_clinic(clinic)
    form = TranscriptSettingsForm(
        request.POST or None,
        initial={
            "delete_text_after_analysis": obj.delete_text_after_analysis,
            "export_text_with_corrections": obj.export_text_with_corrections,
        },
    )
    if request.method == "POST" and form.is_valid():
        cleared = 0
        with transaction.atomic():
            obj.delete_text_after_analysis = form.cleaned_data["delete_text_after_analysis"]
            obj.export_text_with_corrections = form.cleaned_data["export_text_with_corrections"]
            obj.save()
            if form.cleaned_data["apply_to_existing"]:
                cleared = Transcript.objects.filter(
                    clinic=clinic, status=Transcript.Status.DONE, text_deleted_at__isnull=True
                ).update(text="", analysis="", text_deleted_at=timezone.now())
            note = (
                "transcripts: delete text"
                if obj.delete_text_after_analysis
                else "transcripts: keep text"
            )
            audit.record_request(
                request, "update", "clinic_settings", note=f"{note}; {cleared} cleared"
            )
        done = (
            " "
            + ngettext(
                "The text of %(n)d earlier transcript was deleted.",
                "The text of %(n)d earlier transcripts was deleted.",
                cleared,
            )
            % {"n": cleared}
            if cleared
            else ""
        )
        messages.success(request, _("Transcript settings saved.") + done)
        return redirect("transcripts_clinic_settings")
    return render(
        request,
        "transcripts/clinic_settings.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


EXPORT_COLUMNS = [
    "transcript_id",
    "video_url",
    "utterance_id",
    "interlocutor",
    "utterance_text",
    "main_therapist_behaviour",
    "reflection_subtype",
    "question_subtype",
    "client_talk_type",
    "model_code",
]


@staff(Role.ADMIN)
def corrections_export(request: HttpRequest) -> HttpResponse:
    """Clinic admin: therapists' corrections as AnnoMI-format training rows (CSV).

    Every turn of each corrected transcript, labelled only where the therapist corrected it;
    the words only when the clinic opted in. Transcript ids are the transcripts' own random
    ids, never client names.
    """

    clinic = staff_membership(request).clinic
    with_text = TranscriptSettings.for_clinic(clinic).export_text_with_corrections
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    rows = 0
    for t in Transcript.objects.filter(clinic=clinic, status=Transcript.Status.DONE).exclude(
        corrections=""
    ):
        model_result = t.model_analysis()
        if model_result is None:
            continue
        corrections = t.correction_data()
        if not corrections:
            continue
        # every turn of a corrected transcript, so a trainer sees each correction in context;
        # only the corrected turns carry labels (the model's own codes would teach it itself)
        for u in model_result["utterances"]:
            code = corrections.get(str(u["index"]))
            fields = CORRECTIONS[u["speaker"]][code] if code else {}
            writer.writerow(
                {
                    "transcript_id": str(t.pk),
                    "video_url": f"alliance:{t.pk}",
                    "utterance_id": u["index"],
                    "interlocutor": u["speaker"],
                    "utterance_text": u["text"] if with_text else "",
                    "main_therapist_behaviour": fields.get("behaviour", ""),
                    "reflection_subtype": fields.get("reflection_type", ""),
                    "question_subtype": fields.get("question_type", ""),
                    "client_talk_type": fields.get("talk_type", ""),
                    "model_code": current_code(u),
                }
            )
            rows += bool(code)
    audit.record_request(
        request,
        "export",
        "transcript_feedback",
        note=f"corrections export: {rows} corrections, {'with' if with_text else 'without'} text",
    )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="transcript-corrections.csv"'
    return response
