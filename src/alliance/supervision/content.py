"""What a shared item shows, built at read time.

``identifiable=False`` (no supervision consent on file now) gives the de-identified version:
the client's pseudonym, numbers and reaction tags only — no free text from the session, the
journal or the therapist's question.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alliance.lib.charts import LineChart, RefLine, Series
from alliance.nlp.metrics import THRESHOLDS
from alliance.supervision import alliance
from alliance.supervision.models import JournalEntry, SharedItem, ShareKind
from alliance.transcripts.models import Transcript

SKILL_METRICS = [
    ("reflection_to_question", gettext_lazy("Reflections per question")),
    # xgettext:no-python-format
    ("percent_complex_reflections", gettext_lazy("Complex reflections (%)")),
    # xgettext:no-python-format
    ("percent_open_questions", gettext_lazy("Open questions (%)")),
]


def _transcripts(item: SharedItem) -> Any:
    return Transcript.objects.filter(client=item.client, uploaded_by=item.therapist_id)


def metric_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, label in SKILL_METRICS:
        value = (metrics.get(key) or {}).get("value")
        rows.append(
            {
                "label": label,
                "value": value,
                "fair": THRESHOLDS[key]["fair"],
                "good": THRESHOLDS[key]["good"],
                "source": THRESHOLDS[key]["source"],
            }
        )
    return rows


def alliance_chart(
    points: list[alliance.AlliancePoint], markers: list[Any] | None = None
) -> dict[str, object]:
    chart = LineChart(
        title=_("Session alliance check (0–6) by session"),
        x_labels=[f"S{p.session}" for p in points],
        series=[Series(_("Alliance"), [p.score for p in points])],
        y_min=0,
        y_max=6,
        ref_lines=[RefLine(_("cut-off 4"), alliance.ALLIANCE_CUTOFF, "ref-fair")],
        markers=markers or [],
    )
    return chart.render()


def build(item: SharedItem, identifiable: bool) -> dict[str, Any]:
    """The item's content for display; ``missing`` when what it pointed to is gone."""
    out: dict[str, Any] = {"kind": item.kind, "identifiable": identifiable, "missing": False}
    if item.kind == ShareKind.TRANSCRIPT_FEEDBACK:
        qs = _transcripts(item)
        transcript = (
            qs.filter(pk=item.object_id).select_related("session").first()
            if qs is not None
            else None
        )
        if transcript is None:
            out["missing"] = True
            return out
        out["session_number"] = transcript.session.number
        out["metrics"] = metric_rows(transcript.metrics or {})
        if identifiable and not transcript.text_deleted_at:
            data = transcript.analysis_data() or {}
            utterances = data.get("utterances", [])
            out["reflections"] = [
                u["text"]
                for u in utterances
                if u.get("behaviour") == "reflection" and u.get("speaker") == "therapist"
            ][:3]
            out["closed_questions"] = [
                u["text"] for u in utterances if u.get("question_type") == "closed"
            ][:3]
    elif item.kind == ShareKind.SKILL_METRICS:
        qs = _transcripts(item)
        rows = []
        for t in (
            qs.filter(status="done").select_related("session").order_by("session__number")
            if qs is not None
            else []
        ):
            rows.append({"session": t.session.number, "metrics": metric_rows(t.metrics or {})})
        out["sessions"] = rows
    elif item.kind in (ShareKind.ALLIANCE_TIMELINE, ShareKind.RUPTURE_EPISODE):
        points = alliance.alliance_series(item.client)
        out["points"] = [{"session": p.session, "score": p.score} for p in points]
        out["chart"] = alliance_chart(points) if points else None
        if item.kind == ShareKind.RUPTURE_EPISODE:
            start = (item.params or {}).get("start_session")
            episode = next(
                (
                    e
                    for e in alliance.ruptures(points, item.client.clinic)
                    if e["start_session"] == start
                ),
                None,
            )
            if episode is None:
                out["missing"] = True
            out["episode"] = episode
    elif item.kind == ShareKind.JOURNAL_ENTRY:
        # Only the sharer's own entry, about this client. A missing object_id matches nothing
        # (Django reads pk=None as IS NULL), which django-stubs does not allow for a primary key.
        entry = (
            JournalEntry.objects.filter(  # type: ignore[misc]
                pk=item.object_id, therapist_id=item.therapist_id, client=item.client
            )
            .select_related("session")
            .first()
        )
        if entry is None:
            out["missing"] = True
            return out
        out["written_at"] = entry.written_at
        out["session_number"] = entry.session_number
        out["tags"] = entry.tag_rows()
        out["steps"] = entry.step_labels()
        if identifiable:
            out["answers"] = entry.answers()
            out["plan"] = entry.plan
    return out
