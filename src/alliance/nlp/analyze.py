"""The whole analysis of one transcript, as the JSON-able dict of the issue's contract."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import CSR
from .detectors import detect
from .intervals import widening_from_metadata
from .metrics import session_summary
from .model import TranscriptModel, load_model
from .roles import roles_for
from .transcripts import Transcript, parse_transcript

DISCLAIMER = (
    "This is feedback for the therapist's own reflection on their practice. It is not an "
    "evaluation of staff, not a diagnosis and not a risk assessment. Codes are model guesses that "
    "can be wrong; rupture markers and the validation, normalising, affirmation, summary, "
    "judgmental, directive and repair markers are experimental."
)

CHUNK = 256


def analyze_transcript(
    transcript: Transcript,
    therapist: str | None = None,
    model: TranscriptModel | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Analyse a parsed transcript; ``therapist`` names the therapist speaker (else guessed).

    ``progress(done, total)`` is called as turns are scored (for a progress bar).
    """
    model = model or load_model()
    roles = roles_for(transcript, therapist)
    turns = transcript.turns
    speakers = [roles[t.speaker] for t in turns]
    contexts = [
        (
            t.text,
            turns[i - 1].text if i > 0 else "",
            turns[i + 1].text if i + 1 < len(turns) else "",
            turns[i - 2].text if i > 1 else "",
            turns[i + 2].text if i + 2 < len(turns) else "",
        )
        for i, t in enumerate(turns)
    ]
    total = len(turns)
    parts: list[CSR] = []
    for start in range(0, total, CHUNK):
        parts.append(model.transform(contexts[start : start + CHUNK]))
        if progress:
            progress(min(start + CHUNK, total), total)
    features = _vstack(parts) if len(parts) > 1 else parts[0]
    heads = model.predict_heads(features, speakers)
    probabilities = model.head_probabilities(features, speakers)

    utterances = []
    for i, turn in enumerate(turns):
        role = speakers[i]
        pred = heads[i]
        prev_role = speakers[i - 1] if i > 0 else ""
        markers = detect(turn.text, role, contexts[i][1], prev_role)
        utterances.append(
            {
                "index": turn.index,
                "speaker": role,
                "speaker_name": turn.speaker,
                "text": turn.text,
                "start": turn.start,
                "end": turn.end,
                "behaviour": _label(pred["behaviour"]),
                "reflection_type": _label(pred["reflection_type"]),
                "question_type": _label(pred["question_type"]),
                "input_type": _label(pred["input_type"]),
                "talk_type": _label(pred["talk_type"]),
                "markers": [m.to_dict() for m in markers],
                "confidence": {k: round(v[1], 3) for k, v in pred.items() if v is not None},
                "probabilities": probabilities[i],
            }
        )
    summary = session_summary(utterances, widening=widening_from_metadata(model.metadata_))
    summary["speakers"] = {name: role for name, role in roles.items()}
    summary["therapist_from"] = "given" if therapist else "guessed"
    return {
        "model_version": model.version_,
        "disclaimer": DISCLAIMER,
        "format": transcript.format,
        "utterances": utterances,
        "summary": summary,
    }


def analyze_text(text: str, filename: str, therapist: str | None = None) -> dict[str, Any]:
    """Parse and analyse a transcript's text; raises ``TranscriptError`` / ``ValueError``."""
    return analyze_transcript(parse_transcript(text, filename), therapist=therapist)


def _label(pred: tuple[str, float] | None) -> str | None:
    return pred[0] if pred is not None else None


def _vstack(parts: list[CSR]) -> CSR:
    import numpy as np

    offsets = np.cumsum([0] + [len(p.indices) for p in parts[:-1]])
    indptr = np.concatenate(
        [parts[0].indptr[:1]] + [p.indptr[1:] + off for p, off in zip(parts, offsets, strict=False)]
    )
    return CSR(
        indptr,
        np.concatenate([p.indices for p in parts]),
        np.concatenate([p.data for p in parts]),
        parts[0].n_cols,
    )
