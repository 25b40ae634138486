"""Session-level evaluation (``alliance nlp evaluate --sessions``): do the summaries and their
intervals agree with the experts' codes, transcript by transcript?

Transcript-grouped cross-validation: the linear heads are refitted on each training fold, every
held-out transcript is summarised exactly as ``alliance analyze`` would summarise it (gold speaker
roles), and the summary is compared with the same summary computed from the expert codes.  The
confusion that widens the intervals comes from the other folds' out-of-fold predictions, never
from the held-out transcript's own codes.

Reported per metric: interval coverage (share of judged sessions whose 90 % interval holds the
expert value), ICC(2,1) (two-way random, absolute agreement, single rater) and the mean absolute
error of the session values, and per session the recall of sustain talk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .intervals import HEAD_CLASSES, INTERVAL_LEVEL, needed_factor, raw_intervals
from .metrics import session_summary
from .training import contexts, default_model, grouped_folds, labels

METRICS = (
    "reflection_to_question",
    "percent_complex_reflections",
    "percent_open_questions",
    "change_talk_share",
)
# the references: ICC, MAE of one expert against the other nine (AnnoMI's ten-annotator
# transcripts) and of the issue-6 model
EXPERT_REFERENCE = {
    "reflection_to_question": {
        "expert_icc": 0.85,
        "expert_mae": 0.50,
        "before_icc": 0.67,
        "before_mae": 0.71,
    },
    "percent_complex_reflections": {
        "expert_icc": 0.09,
        "expert_mae": 29.0,
        "before_icc": 0.34,
        "before_mae": 26.0,
    },
    "percent_open_questions": {
        "expert_icc": 0.66,
        "expert_mae": 15.0,
        "before_icc": 0.27,
        "before_mae": 20.0,
    },
    "change_talk_share": {
        "expert_icc": 0.69,
        "expert_mae": 16.0,
        "before_icc": 0.12,
        "before_mae": 26.0,
    },
}
COVERAGE_TARGET = (0.85, 0.95)


def icc_2_1(a: Sequence[float], b: Sequence[float]) -> float | None:
    """ICC(2,1), absolute agreement, two raters (Shrout & Fleiss 1979; McGraw & Wong 1996)."""
    x = np.column_stack([np.asarray(a, dtype=float), np.asarray(b, dtype=float)])
    n, k = x.shape
    if n < 3:
        return None
    gm = x.mean()
    ssr = k * ((x.mean(axis=1) - gm) ** 2).sum()
    ssc = n * ((x.mean(axis=0) - gm) ** 2).sum()
    sse = ((x - gm) ** 2).sum() - ssr - ssc
    msr, msc, mse = ssr / (n - 1), ssc / (k - 1), sse / ((n - 1) * (k - 1))
    den = msr + (k - 1) * mse + k * (msc - mse) / n
    return float((msr - mse) / den) if den > 0 else None


def gold_values(records: Sequence[Any]) -> dict[str, float | None]:
    """The four summaries from the expert codes of one transcript."""

    def n(attr: str, value: str) -> int:
        return sum(1 for r in records if getattr(r, attr) == value)

    refl, quest = n("behaviour", "reflection"), n("behaviour", "question")
    simple = sum(
        1 for r in records if r.behaviour == "reflection" and r.reflection_type == "simple"
    )
    cplx = sum(1 for r in records if r.behaviour == "reflection" and r.reflection_type == "complex")
    opn = sum(1 for r in records if r.behaviour == "question" and r.question_type == "open")
    closed = sum(1 for r in records if r.behaviour == "question" and r.question_type == "closed")
    change, sustain = n("talk_type", "change"), n("talk_type", "sustain")
    return {
        "reflection_to_question": refl / quest if quest else None,
        "percent_complex_reflections": 100.0 * cplx / (simple + cplx) if simple + cplx else None,
        "percent_open_questions": 100.0 * opn / (opn + closed) if opn + closed else None,
        "change_talk_share": 100.0 * change / (change + sustain) if change + sustain else None,
    }


def utterances_for(model: Any, records: Sequence[Any]) -> list[dict[str, Any]]:
    """Utterance dicts as ``analyze_transcript`` makes them (minus markers), on gold roles."""

    feats = model.transform(contexts(records))
    speakers = [r.speaker for r in records]
    heads = model.predict_heads(feats, speakers)
    probs = model.head_probabilities(feats, speakers)
    out = []
    for i, r in enumerate(records):
        pred = heads[i]
        out.append(
            {
                "index": i,
                "speaker": r.speaker,
                "text": r.text,
                "start": None,
                "end": None,
                **{h: (pred[h][0] if pred[h] else None) for h in pred},
                "markers": [],
                "probabilities": probs[i],
            }
        )
    return out


def confusion_from_utterances(
    pairs: Sequence[tuple[Any, dict[str, Any]]],
) -> dict[str, np.ndarray]:
    """``P(expert class | model class)`` per head from (record, predicted utterance) pairs."""
    out: dict[str, np.ndarray] = {}
    for head, classes in HEAD_CLASSES.items():
        cm = np.zeros((len(classes), len(classes)))
        for rec, utt in pairs:
            gold, pred = getattr(rec, head), utt.get(head)
            if head in ("reflection_type", "question_type") and pred is None:
                dist = (utt.get("probabilities") or {}).get(head)
                pred = max(dist, key=dist.get) if dist else None
            if gold in classes and pred in classes:
                cm[classes.index(pred), classes.index(gold)] += 1
        rows = cm.sum(axis=1, keepdims=True)
        m = np.eye(len(classes))
        ok = rows[:, 0] > 0
        m[ok] = cm[ok] / rows[ok]
        out[head] = m
    return out


def predict_sessions(
    records: Sequence[Any],
    n_folds: int = 5,
    seed: int = 0,
    log: Callable[[str], object] = print,
    make_model: Callable[[int], Any] | None = None,
) -> tuple[list[np.ndarray], dict[str, list[dict[str, Any]]]]:
    """The folds, and per transcript its utterances as scored by the model of its fold."""

    make_model = make_model or default_model
    by_transcript = _by_transcript(records)
    folds = grouped_folds([r.group for r in records], n_folds, seed)
    predicted: dict[str, list[dict[str, Any]]] = {}
    for k, test in enumerate(folds):
        test_set = set(test.tolist())
        train = [records[i] for i in range(len(records)) if i not in test_set]
        model = make_model(seed).fit(contexts(train), labels(train))
        tids = sorted({records[i].transcript_id for i in test})
        for tid in tids:
            predicted[tid] = utterances_for(model, [records[i] for i in by_transcript[tid]])
        log(f"fold {k + 1}/{n_folds}: {len(tids)} transcripts scored")
    return folds, predicted


def _by_transcript(records: Sequence[Any]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        out.setdefault(r.transcript_id, []).append(i)
    return out


def calibrate_widening(
    rows: Sequence[tuple[str, tuple[float, float, float], float]],
) -> dict[str, float]:
    """Per metric, the widening factor that makes 90 % of these sessions' intervals reach the
    expert value (split-conformal quantile, rounded up; at least 1)."""

    out: dict[str, float] = {}
    for name in METRICS:
        factors = sorted(needed_factor(name, q, g) for n, q, g in rows if n == name)
        if not factors:
            continue
        rank = min(len(factors), int(np.ceil((len(factors) + 1) * INTERVAL_LEVEL)))
        out[name] = round(max(1.0, factors[rank - 1]), 3)
    return out


def score_sessions(
    records: Sequence[Any],
    folds: Sequence[np.ndarray],
    predicted: dict[str, list[dict[str, Any]]],
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """One row per transcript: each summary's value, interval and level beside the expert value,
    with the widening cross-fitted (measured on the other folds' sessions only); and the
    widening measured on all sessions, for the shipped model."""

    by_transcript = _by_transcript(records)
    fold_of_tid = {records[i].transcript_id: k for k, test in enumerate(folds) for i in test}
    gold = {tid: gold_values([records[i] for i in idx]) for tid, idx in by_transcript.items()}
    calib: list[tuple[int, str, tuple[float, float, float], float]] = []
    for tid, utts in predicted.items():
        for name, q in raw_intervals(utts).items():
            g = gold[tid][name]
            if q is not None and g is not None:
                calib.append((fold_of_tid[tid], name, q, g))
    sessions = []
    for k in range(len(folds)):
        widening = calibrate_widening([(n, q, g) for f, n, q, g in calib if f != k])
        for tid in sorted(t for t, f in fold_of_tid.items() if f == k):
            recs = [records[i] for i in by_transcript[tid]]
            summary = session_summary(predicted[tid], widening=widening)
            row: dict[str, Any] = {"transcript": tid, "fold": k, "utterances": len(recs)}
            for name in METRICS:
                m = summary[name]
                row[name] = {
                    "value": m["value"],
                    "interval": m["interval"],
                    "level": m.get("level"),
                    "gold": gold[tid][name],
                }
            gold_sustain = [
                u for r, u in zip(recs, predicted[tid], strict=True) if r.talk_type == "sustain"
            ]
            row["sustain_gold"] = len(gold_sustain)
            row["sustain_recall"] = (
                sum(1 for u in gold_sustain if u["talk_type"] == "sustain") / len(gold_sustain)
                if gold_sustain
                else None
            )
            sessions.append(row)
    return sessions, calibrate_widening([(n, q, g) for _, n, q, g in calib])


def evaluate_sessions(
    records: Sequence[Any],
    n_folds: int = 5,
    seed: int = 0,
    log: Callable[[str], object] = print,
    make_model: Callable[[int], Any] | None = None,
) -> dict[str, Any]:
    """Grouped CV at the session level; returns the report described in the module docstring."""
    folds, predicted = predict_sessions(records, n_folds, seed, log, make_model)
    sessions, widening = score_sessions(records, folds, predicted)
    return {
        "folds": n_folds,
        "seed": seed,
        "sessions": sessions,
        "metrics": summarise(sessions),
        "widening": widening,
    }


def summarise(sessions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in METRICS:
        pairs = [
            (s[name]["value"], s[name]["gold"])
            for s in sessions
            if s[name]["value"] is not None and s[name]["gold"] is not None
        ]
        judged = [
            s for s in sessions if s[name]["interval"] is not None and s[name]["gold"] is not None
        ]
        covered = [
            s for s in judged if s[name]["interval"][0] <= s[name]["gold"] <= s[name]["interval"][1]
        ]
        rated = [s for s in sessions if s[name]["level"] in ("good", "fair", "below fair")]
        out[name] = {
            "sessions_with_value": len(pairs),
            "icc": icc_2_1([p for p, _ in pairs], [g for _, g in pairs]) if pairs else None,
            "mae": float(np.mean([abs(p - g) for p, g in pairs])) if pairs else None,
            "sessions_with_interval": len(judged),
            "coverage": len(covered) / len(judged) if judged else None,
            "mean_interval_width": (
                float(np.mean([s[name]["interval"][1] - s[name]["interval"][0] for s in judged]))
                if judged
                else None
            ),
            "sessions_rated": len(rated),
            **EXPERT_REFERENCE[name],
        }
    recalls = [s["sustain_recall"] for s in sessions if s["sustain_recall"] is not None]
    out["sustain_recall"] = {
        "sessions": len(recalls),
        "mean": float(np.mean(recalls)) if recalls else None,
        "median": float(np.median(recalls)) if recalls else None,
        "zero": sum(1 for r in recalls if r == 0.0),
    }
    return out


def format_sessions(report: dict[str, Any]) -> str:
    m = report["metrics"]
    lines = [
        f"session-level {report['folds']}-fold CV grouped by video, seed {report['seed']}, "
        f"{len(report['sessions'])} transcripts",
        "",
        f"{'summary':<30}{'coverage':>10}{'judged':>8}{'width':>8}{'ICC':>7}{'MAE':>7}{'rated':>7}"
        f"   expert ICC/MAE  issue-6 ICC/MAE",
    ]
    for name in METRICS:
        r = m[name]
        cov = "n/a" if r["coverage"] is None else f"{100 * r['coverage']:.0f}%"
        icc = "n/a" if r["icc"] is None else f"{r['icc']:.2f}"
        mae = "n/a" if r["mae"] is None else f"{r['mae']:.2f}"
        width = "n/a" if r["mean_interval_width"] is None else f"{r['mean_interval_width']:.1f}"
        lines.append(
            f"{name:<30}{cov:>10}{r['sessions_with_interval']:>8}{width:>8}{icc:>7}{mae:>7}"
            f"{r['sessions_rated']:>7}   {r['expert_icc']:.2f}/{r['expert_mae']:g}"
            f"        {r['before_icc']:.2f}/{r['before_mae']:g}"
        )
    sr = m["sustain_recall"]
    if sr["mean"] is not None:
        lines += [
            "",
            f"sustain-talk recall per session ({sr['sessions']} sessions with sustain talk): "
            f"mean {sr['mean']:.2f}, median {sr['median']:.2f}, none found in {sr['zero']}",
        ]
    lo, hi = COVERAGE_TARGET
    lines += ["", f"coverage target: {100 * lo:.0f}-{100 * hi:.0f}% of judged sessions"]
    return "\n".join(lines) + "\n"
