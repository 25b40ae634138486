"""The whole analysis of one transcript, as the JSON-able dict of the issue's contract."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from .base import CSR
from .detectors import detect
from .intervals import widening_from_metadata
from .metrics import session_summary
from .model import ARTIFACT_DIR, TranscriptModel, load_model
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


# A therapist's correction: the code they choose for one utterance, by speaker role.
CORRECTIONS: dict[str, dict[str, dict[str, str]]] = {
    "therapist": {
        "reflection/simple": {"behaviour": "reflection", "reflection_type": "simple"},
        "reflection/complex": {"behaviour": "reflection", "reflection_type": "complex"},
        "question/open": {"behaviour": "question", "question_type": "open"},
        "question/closed": {"behaviour": "question", "question_type": "closed"},
        "therapist_input": {"behaviour": "therapist_input"},
        "other": {"behaviour": "other"},
    },
    "client": {
        "change": {"talk_type": "change"},
        "neutral": {"talk_type": "neutral"},
        "sustain": {"talk_type": "sustain"},
    },
}
_CODE_FIELDS = ("behaviour", "reflection_type", "question_type", "input_type", "talk_type")


def current_code(utterance: dict[str, Any]) -> str:
    """The utterance's code in the terms of CORRECTIONS (for the correction form)."""
    if utterance.get("speaker") == "client":
        return str(utterance.get("talk_type") or "")
    beh = utterance.get("behaviour") or ""
    sub = utterance.get("reflection_type") or utterance.get("question_type")
    return f"{beh}/{sub}" if beh in ("reflection", "question") and sub else str(beh)


def check_correction(result: dict[str, Any], index: int, code: str) -> None:
    """Raise ``ValueError`` with a clear message unless ``code`` fits utterance ``index``."""
    utts = {u["index"]: u for u in result["utterances"]}
    if index not in utts:
        raise ValueError(f"there is no utterance {index} in this transcript")
    role = utts[index]["speaker"]
    if code not in CORRECTIONS[role]:
        raise ValueError(
            f"{code!r} is not a code for a {role} turn (choose one of {', '.join(CORRECTIONS[role])})"
        )


def apply_corrections(
    result: dict[str, Any],
    corrections: dict[str, str],
    widening: dict[str, float] | None = None,
) -> dict[str, Any]:
    """A copy of ``result`` with the therapist's codes on the corrected utterances (taken as
    certain) and the summary, intervals and levels recomputed from them.

    ``corrections`` maps an utterance index (as a string, as JSON stores it) to a code of
    CORRECTIONS; every corrected utterance is marked ``"corrected": true``.
    """

    out = copy.deepcopy(result)
    by_index = {u["index"]: u for u in out["utterances"]}
    for key, code in corrections.items():
        check_correction(out, int(key), code)
        u = by_index[int(key)]
        fields = CORRECTIONS[u["speaker"]][code]
        for f in _CODE_FIELDS:
            if u["speaker"] == "therapist" and f != "talk_type":
                u[f] = fields.get(f)
        if u["speaker"] == "client":
            u["talk_type"] = fields["talk_type"]
        probs = u.setdefault("probabilities", {})
        for head, label in fields.items():
            classes = list((probs.get(head) or {}).keys()) or [label]
            probs[head] = {c: (1.0 if c == label else 0.0) for c in classes}
            probs[head].setdefault(label, 1.0)
        u["corrected"] = True
    old = out["summary"]
    summary = session_summary(out["utterances"], widening=widening)
    for k in ("speakers", "therapist_from"):
        if k in old:
            summary[k] = old[k]
    summary["corrected_utterances"] = len(corrections)
    out["summary"] = summary
    return out


def widening_for_version(version: str) -> dict[str, float]:
    """The interval widening stored with a shipped model version (empty when not shipped)."""

    if not version or "/" in version or "\\" in version:
        return {}
    try:
        meta = json.loads((ARTIFACT_DIR / f"model-{version}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return widening_from_metadata(meta)
