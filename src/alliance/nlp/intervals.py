"""Session summaries that say only what they can support: 90 % intervals and availability.

A session summary is a ratio of counts, and every count comes from model guesses.  The interval
of a summary is found by simulating the session many times: each utterance's code is drawn from
its class probabilities pushed through the confusion the models showed in cross-validation
(``P(expert code | model code)``), so a code the models often confuse spreads its weight over the
codes experts gave such utterances.  The interval is the central 90 % of the simulated values.
Simulations are seeded, so the same analysis always gives the same interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

INTERVAL_LEVEL = 0.90
N_SIMULATIONS = 2000
SEED = 20140101

# Below these, a session is analysed but its summaries are reported as not available.
MIN_THERAPIST_TURNS = 10
MIN_CLIENT_TURNS = 3
# A ratio needs enough utterances in its denominator to mean anything (expected counts).
MIN_BASE = {
    "reflection_to_question": 3.0,  # questions
    "percent_complex_reflections": 5.0,  # reflections
    "percent_open_questions": 5.0,  # questions
    "change_talk_share": 3.0,  # change + sustain utterances
}
BASE_WORDS = {
    "reflection_to_question": "questions",
    "percent_complex_reflections": "reflections",
    "percent_open_questions": "questions",
    "change_talk_share": "change or sustain talk",
}
# An interval is given only when the metric is defined in this share of the simulations.
MIN_DEFINED = 0.95

HEAD_CLASSES: dict[str, tuple[str, ...]] = {
    "behaviour": ("reflection", "question", "therapist_input", "other"),
    "reflection_type": ("simple", "complex"),
    "question_type": ("open", "closed"),
    "talk_type": ("change", "neutral", "sustain"),
}


def confusion_from_metadata(meta: Mapping[str, Any] | None) -> dict[str, np.ndarray]:
    """Per head, ``M[k, j] = P(expert class j | model class k)`` from the stored CV confusion.

    The stored matrices count (expert row, model column); a column with no predictions keeps the
    identity, so a class never predicted in CV changes nothing.
    """
    out: dict[str, np.ndarray] = {}
    heads = ((meta or {}).get("cv") or {}).get("heads") or {}
    for head, classes in HEAD_CLASSES.items():
        rep = heads.get(head)
        if not rep or list(rep.get("labels", [])) != list(classes):
            continue
        cm = np.asarray(rep["confusion"], dtype=np.float64)  # rows expert, columns model
        cols = cm.sum(axis=0)
        m = np.eye(len(classes))
        for k in range(len(classes)):
            if cols[k] > 0:
                m[k] = cm[:, k] / cols[k]
        out[head] = m
    return out


def _distribution(u: Mapping[str, Any], head: str) -> np.ndarray | None:
    """The utterance's probabilities for ``head`` in HEAD_CLASSES order, or a one-hot label."""
    classes = HEAD_CLASSES[head]
    probs = (u.get("probabilities") or {}).get(head)
    if probs:
        p = np.array([float(probs.get(c, 0.0)) for c in classes])
        total = p.sum()
        if total > 0:
            return p / total
    label = u.get(head)
    if label in classes:
        return np.eye(len(classes))[classes.index(label)]
    return None


def _expert_probabilities(
    utterances: Sequence[Mapping[str, Any]],
    head: str,
    who: str,
    confusion: Mapping[str, np.ndarray],
) -> np.ndarray:
    rows = []
    for u in utterances:
        if u.get("speaker") != who:
            continue
        p = _distribution(u, head)
        if p is None:
            if head == "behaviour" or head == "talk_type":
                continue
            p = np.full(len(HEAD_CLASSES[head]), 1.0 / len(HEAD_CLASSES[head]))
        rows.append(p)
    if not rows:
        return np.zeros((0, len(HEAD_CLASSES[head])))
    P = np.vstack(rows)
    if head in confusion:
        P = P @ confusion[head]
    return P / P.sum(axis=1, keepdims=True)


def _draw(P: np.ndarray, rng: np.random.Generator, n_sims: int) -> np.ndarray:
    """Class index per simulation and row, shape (n_sims, rows)."""
    if P.shape[0] == 0:
        return np.zeros((n_sims, 0), dtype=np.int64)
    cdf = np.cumsum(P, axis=1)
    u = rng.random((n_sims, P.shape[0], 1))
    return np.minimum((u > cdf[None, :, :]).sum(axis=2), P.shape[1] - 1)


def simulate(
    utterances: Sequence[Mapping[str, Any]],
    confusion: Mapping[str, np.ndarray] | None = None,
    n_sims: int = N_SIMULATIONS,
    seed: int = SEED,
) -> dict[str, np.ndarray]:
    """Simulated counts per code, each an array of ``n_sims`` values."""
    confusion = confusion or {}
    rng = np.random.default_rng(seed)
    therapist = [u for u in utterances if u.get("speaker") == "therapist"]
    beh = _draw(_expert_probabilities(therapist, "behaviour", "therapist", confusion), rng, n_sims)
    # subtypes for every therapist turn, used only where the drawn behaviour is that type
    rtype = _draw(
        _expert_probabilities(therapist, "reflection_type", "therapist", confusion), rng, n_sims
    )
    qtype = _draw(
        _expert_probabilities(therapist, "question_type", "therapist", confusion), rng, n_sims
    )
    talk = _draw(_expert_probabilities(utterances, "talk_type", "client", confusion), rng, n_sims)
    if beh.shape[1] != rtype.shape[1]:  # therapist turns without a behaviour distribution
        beh = np.zeros((n_sims, 0), dtype=np.int64)
        rtype = qtype = beh
    is_refl = beh == 0
    is_q = beh == 1
    return {
        "reflection": is_refl.sum(axis=1),
        "question": is_q.sum(axis=1),
        "complex": (is_refl & (rtype == 1)).sum(axis=1),
        "open": (is_q & (qtype == 0)).sum(axis=1),
        "change": (talk == 0).sum(axis=1),
        "sustain": (talk == 2).sum(axis=1),
    }


def _ratio_interval(num: np.ndarray, den: np.ndarray, scale: float) -> tuple[float, float] | None:
    ok = den > 0
    if ok.mean() < MIN_DEFINED:
        return None
    values = scale * num[ok] / den[ok]
    tail = (1 - INTERVAL_LEVEL) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def intervals(
    utterances: Sequence[Mapping[str, Any]],
    confusion: Mapping[str, np.ndarray] | None = None,
    n_sims: int = N_SIMULATIONS,
    seed: int = SEED,
) -> dict[str, tuple[float, float] | None]:
    """90 % interval per summary metric, or None where too few simulations define it."""
    c = simulate(utterances, confusion, n_sims, seed)
    return {
        "reflection_to_question": _ratio_interval(c["reflection"], c["question"], 1.0),
        "percent_complex_reflections": _ratio_interval(c["complex"], c["reflection"], 100.0),
        "percent_open_questions": _ratio_interval(c["open"], c["question"], 100.0),
        "change_talk_share": _ratio_interval(c["change"], c["change"] + c["sustain"], 100.0),
    }


def expected_counts(
    utterances: Sequence[Mapping[str, Any]], confusion: Mapping[str, np.ndarray] | None = None
) -> dict[str, float]:
    """Expected number of utterances per code (probabilities summed, not argmax labels counted)."""
    confusion = confusion or {}
    therapist = [u for u in utterances if u.get("speaker") == "therapist"]
    beh = _expert_probabilities(therapist, "behaviour", "therapist", confusion)
    talk = _expert_probabilities(utterances, "talk_type", "client", confusion)
    out = {
        "reflection": float(beh[:, 0].sum()) if len(beh) else 0.0,
        "question": float(beh[:, 1].sum()) if len(beh) else 0.0,
        "change": float(talk[:, 0].sum()) if len(talk) else 0.0,
        "sustain": float(talk[:, 2].sum()) if len(talk) else 0.0,
    }
    if len(beh):
        r = _expert_probabilities(therapist, "reflection_type", "therapist", confusion)
        q = _expert_probabilities(therapist, "question_type", "therapist", confusion)
        if len(r) == len(beh):
            out["complex"] = float((beh[:, 0] * r[:, 1]).sum())
            out["open"] = float((beh[:, 1] * q[:, 0]).sum())
    return out
