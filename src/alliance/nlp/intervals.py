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
# How much a session's own error rates vary around the confusion measured over all sessions:
# each simulation draws the session's confusion rows from Dirichlet(CONCENTRATION * row).  The
# utterances of one session share a speaker, a topic and a recording, so the models' mistakes
# in it are correlated; without this term the intervals covered the expert value in only 59-71 %
# of cross-validated sessions.  Chosen on the session-level CV (model card) for 85-95 % coverage.
CONCENTRATION = 8.0

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


def _model_probabilities(
    utterances: Sequence[Mapping[str, Any]], head: str, who: str
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
    return np.vstack(rows)


def _expert_probabilities(
    utterances: Sequence[Mapping[str, Any]],
    head: str,
    who: str,
    confusion: Mapping[str, np.ndarray],
) -> np.ndarray:
    P = _model_probabilities(utterances, head, who)
    if len(P) and head in confusion:
        P = P @ confusion[head]
    return P / P.sum(axis=1, keepdims=True)


def _draw(
    P: np.ndarray,
    rng: np.random.Generator,
    n_sims: int,
    confusion: np.ndarray | None = None,
    concentration: float | None = None,
) -> np.ndarray:
    """Expert class index per simulation and row, shape (n_sims, rows).

    ``P`` holds the model's probabilities; with ``confusion`` each simulation first draws the
    session's own confusion rows around it (see CONCENTRATION), then pushes ``P`` through them.
    """
    if P.shape[0] == 0:
        return np.zeros((n_sims, 0), dtype=np.int64)
    if confusion is None:
        cdf = np.broadcast_to(np.cumsum(P, axis=1), (n_sims, *P.shape))
    else:
        c = CONCENTRATION if concentration is None else concentration
        k = confusion.shape[0]
        alpha = np.maximum(c * confusion, 1e-3)
        M = np.stack([rng.dirichlet(alpha[i], size=n_sims) for i in range(k)], axis=1)
        cdf = np.cumsum(np.einsum("rk,skc->src", P, M), axis=2)
    u = rng.random((n_sims, P.shape[0], 1))
    return np.minimum((u > cdf).sum(axis=2), P.shape[1] - 1)


def simulate(
    utterances: Sequence[Mapping[str, Any]],
    confusion: Mapping[str, np.ndarray] | None = None,
    n_sims: int = N_SIMULATIONS,
    seed: int = SEED,
    concentration: float | None = None,
) -> dict[str, np.ndarray]:
    """Simulated counts per code, each an array of ``n_sims`` values."""
    confusion = confusion or {}
    rng = np.random.default_rng(seed)
    therapist = [u for u in utterances if u.get("speaker") == "therapist"]

    def draw(rows: Sequence[Mapping[str, Any]], head: str, who: str) -> np.ndarray:
        P = _model_probabilities(rows, head, who)
        return _draw(P, rng, n_sims, confusion.get(head), concentration)

    beh = draw(therapist, "behaviour", "therapist")
    # subtypes for every therapist turn, used only where the drawn behaviour is that type
    rtype = draw(therapist, "reflection_type", "therapist")
    qtype = draw(therapist, "question_type", "therapist")
    talk = draw(utterances, "talk_type", "client")
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


def _ratio_quantiles(
    num: np.ndarray, den: np.ndarray, scale: float
) -> tuple[float, float, float] | None:
    """(low, median, high) of the simulated ratio, or None where it is too often undefined."""
    ok = den > 0
    if ok.mean() < MIN_DEFINED:
        return None
    values = scale * num[ok] / den[ok]
    tail = (1 - INTERVAL_LEVEL) / 2
    low, mid, high = np.quantile(values, [tail, 0.5, 1 - tail])
    return float(low), float(mid), float(high)


# Smallest half-width an interval is widened from, in the metric's units: a simulation in which
# every code is near-certain gives a point, which a measured widening factor cannot stretch.
MIN_HALF_WIDTH = {
    "reflection_to_question": 0.1,
    "percent_complex_reflections": 5.0,
    "percent_open_questions": 5.0,
    "change_talk_share": 5.0,
}
UPPER = {
    "reflection_to_question": float("inf"),
    "percent_complex_reflections": 100.0,
    "percent_open_questions": 100.0,
    "change_talk_share": 100.0,
}


def widen(name: str, quantiles: tuple[float, float, float], factor: float) -> tuple[float, float]:
    """Stretch a simulated interval about its median by ``factor`` (the measured widening)."""
    low, mid, high = quantiles
    if factor == 1.0:
        return low, high
    below = max(mid - low, MIN_HALF_WIDTH[name])
    above = max(high - mid, MIN_HALF_WIDTH[name])
    return max(0.0, mid - factor * below), min(UPPER[name], mid + factor * above)


def needed_factor(name: str, quantiles: tuple[float, float, float], gold: float) -> float:
    """How far ``widen`` must stretch this interval to reach ``gold`` (for calibration)."""
    low, mid, high = quantiles
    if gold >= mid:
        return (gold - mid) / max(high - mid, MIN_HALF_WIDTH[name])
    return (mid - gold) / max(mid - low, MIN_HALF_WIDTH[name])


def raw_intervals(
    utterances: Sequence[Mapping[str, Any]],
    confusion: Mapping[str, np.ndarray] | None = None,
    n_sims: int = N_SIMULATIONS,
    seed: int = SEED,
    concentration: float | None = None,
) -> dict[str, tuple[float, float, float] | None]:
    """(low, median, high) of each summary metric over the simulations, before widening."""
    c = simulate(utterances, confusion, n_sims, seed, concentration)
    return {
        "reflection_to_question": _ratio_quantiles(c["reflection"], c["question"], 1.0),
        "percent_complex_reflections": _ratio_quantiles(c["complex"], c["reflection"], 100.0),
        "percent_open_questions": _ratio_quantiles(c["open"], c["question"], 100.0),
        "change_talk_share": _ratio_quantiles(c["change"], c["change"] + c["sustain"], 100.0),
    }


def intervals(
    utterances: Sequence[Mapping[str, Any]],
    confusion: Mapping[str, np.ndarray] | None = None,
    n_sims: int = N_SIMULATIONS,
    seed: int = SEED,
    concentration: float | None = None,
    widening: Mapping[str, float] | None = None,
) -> dict[str, tuple[float, float] | None]:
    """90 % interval per summary metric, or None where too few simulations define it.

    ``widening`` (per metric, measured in session-level CV and stored in the artifact) stretches
    the simulated interval about its median: the simulation alone treats utterances as
    independent, while one session's coding errors go together.
    """
    raw = raw_intervals(utterances, confusion, n_sims, seed, concentration)
    out: dict[str, tuple[float, float] | None] = {}
    for name, q in raw.items():
        out[name] = None if q is None else widen(name, q, (widening or {}).get(name, 1.0))
    return out


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


def widening_from_metadata(meta: Mapping[str, Any] | None) -> dict[str, float]:
    """The per-metric widening factors stored by ``alliance nlp evaluate --sessions --card``."""
    scv = (meta or {}).get("session_cv") or {}
    return {k: float(v) for k, v in (scv.get("widening") or {}).items()}
