"""Session metrics from analysed utterances, and trends across sessions.

Thresholds (shown next to the value, as feedback for the therapist, never as a staff score):

* reflection-to-question ratio: fair 1:1, good 2:1 — MITI 4.2.1 (Moyers, Manuel & Ernst 2014,
  rev. 2015);
* % complex reflections: fair 40 %, good 50 % — MITI 4.2.1;
* % open questions: fair 50 %, good 70 % — MITI 3.1.1 (Moyers, Martin, Manuel, Miller & Ernst
  2010).  MITI 4 dropped this summary score; we keep the 3.1.1 thresholds because open questions
  remain a core MI skill and therapists ask for the number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .intervals import (
    BASE_WORDS,
    MIN_BASE,
    MIN_CLIENT_TURNS,
    MIN_THERAPIST_TURNS,
    expected_counts,
    intervals,
)

THRESHOLDS: dict[str, dict[str, Any]] = {
    "reflection_to_question": {"fair": 1.0, "good": 2.0, "source": "MITI 4.2.1"},
    "percent_complex_reflections": {"fair": 40.0, "good": 50.0, "source": "MITI 4.2.1"},
    "percent_open_questions": {"fair": 50.0, "good": 70.0, "source": "MITI 3.1.1"},
}

# metrics whose rise is good news, for trend direction (talk shares are deliberately absent)
HIGHER_IS_BETTER = {
    "reflection_to_question": True,
    "percent_complex_reflections": True,
    "percent_open_questions": True,
    "change_talk_share": True,
    "rupture_markers": False,
    "judgmental": False,
}


_UNSET: Any = object()

UNITS = {
    "reflection_to_question": ("", " reflections per question"),
    "percent_complex_reflections": ("", " %"),
    "percent_open_questions": ("", " %"),
}


def _band(name: str, value: float) -> str:
    t = THRESHOLDS[name]
    if value >= t["good"]:
        return "good"
    if value >= t["fair"]:
        return "fair"
    return "below fair"


def _metric_text(name: str, v: float) -> str:
    return f"{v:.1f}" if name == "reflection_to_question" else f"{v:.0f}"


def rate(
    name: str,
    value: float | None,
    interval: tuple[float, float] | None = _UNSET,
    reason: str | None = None,
) -> dict[str, Any]:
    """``{"value", "interval", "fair", "good", "level", "reason", "source"}``.

    Without ``interval`` the level follows the value alone (good / fair / below fair / None).
    With one, the level is a band only when the whole interval lies in it, else "uncertain",
    and ``reason`` says why in words; ``interval=None`` means too little to say.
    """
    t = THRESHOLDS[name]
    out: dict[str, Any] = {
        "value": None if value is None else round(value, 2),
        "fair": t["fair"],
        "good": t["good"],
        "level": None,
        "source": t["source"],
    }
    if interval is _UNSET:
        out["level"] = None if value is None else _band(name, value)
        return out
    out["interval"] = None if interval is None else [round(interval[0], 2), round(interval[1], 2)]
    out["reason"] = reason
    if value is None:
        return out
    if interval is None:
        out["level"] = "uncertain"
        return out
    low, high = _band(name, interval[0]), _band(name, interval[1])
    if low == high:
        out["level"] = low
        out["reason"] = None
    else:
        out["level"] = "uncertain"
        unit = UNITS[name][1]
        out["reason"] = reason or (
            f"the likely range, {_metric_text(name, interval[0])} to {_metric_text(name, interval[1])}{unit}, "
            f"reaches from {low} to {high}: this session cannot tell which"
        )
    return out


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def _pct(a: int, b: int) -> float | None:
    return 100.0 * a / b if b else None


def _words(text: str) -> int:
    return len(text.split())


def session_summary(
    utterances: Sequence[Mapping[str, Any]],
    confusion: Mapping[str, Any] | None = None,
    min_therapist_turns: int = MIN_THERAPIST_TURNS,
    min_client_turns: int = MIN_CLIENT_TURNS,
    widening: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Summary metrics for one session from the ``utterances`` of :func:`analyze_transcript`.

    ``widening`` (from :func:`alliance.nlp.intervals.widening_from_metadata`) stretches the
    simulated intervals by the factor measured in session-level CV; ``confusion`` optionally
    pushes the probabilities through the CV confusion first (measured not to help; kept for
    the evaluation).  Expected counts and the change-talk share use the model's own
    probabilities.
    """
    count = {
        k: 0
        for k in (
            "reflection",
            "question",
            "therapist_input",
            "other",
            "simple",
            "complex",
            "open",
            "closed",
            "change",
            "neutral",
            "sustain",
        )
    }
    markers: dict[str, int] = {}
    words = {"therapist": 0, "client": 0}
    seconds = {"therapist": 0.0, "client": 0.0}
    timed = bool(utterances)
    ruptures = []
    for u in utterances:
        role = u["speaker"]
        words[role] += _words(u["text"])
        if u.get("start") is not None and u.get("end") is not None:
            seconds[role] += max(0.0, float(u["end"]) - float(u["start"]))
        else:
            timed = False
        for key in ("behaviour", "reflection_type", "question_type", "talk_type"):
            if u.get(key):
                count[u[key]] += 1
        for m in u.get("markers", []):
            name = m["type"] if isinstance(m, Mapping) else str(m)
            markers[name] = markers.get(name, 0) + 1
            if name.startswith("rupture_"):
                ruptures.append(
                    {
                        "index": u["index"],
                        "type": name,
                        "start": u.get("start"),
                        "cue": m.get("cue") if isinstance(m, Mapping) else None,
                    }
                )
    therapist_turns = sum(1 for u in utterances if u["speaker"] == "therapist")
    client_turns = len(utterances) - therapist_turns
    unavailable: dict[str, str] = {}
    if client_turns == 0:
        no_client = "no client speech in this transcript (one speaker only)"
        for key in ("change_talk_share", "change_sustain", "talk_share"):
            unavailable[key] = no_client
    elif client_turns < min_client_turns:
        few = (
            f"only {client_turns} client turn{'s' if client_turns != 1 else ''}; "
            f"at least {min_client_turns} are needed to judge client talk"
        )
        unavailable["change_talk_share"] = unavailable["change_sustain"] = few
    if therapist_turns < min_therapist_turns:
        short = (
            f"only {therapist_turns} therapist turn{'s' if therapist_turns != 1 else ''}; "
            f"at least {min_therapist_turns} are needed to judge this measure"
        )
        for key in THRESHOLDS:
            unavailable[key] = short

    ivals = intervals(utterances, confusion, widening=widening)
    expected = expected_counts(utterances)
    base = {
        "reflection_to_question": expected["question"],
        "percent_complex_reflections": expected["reflection"],
        "percent_open_questions": expected["question"],
        "change_talk_share": expected["change"] + expected["sustain"],
    }

    def judged(name: str) -> tuple[tuple[float, float] | None, str | None]:
        """The interval, or None with the reason there is too little to say."""
        if base[name] < MIN_BASE[name] or ivals[name] is None:
            return None, (
                f"too few {BASE_WORDS[name]} in this session to judge "
                f"(about {base[name]:.1f} expected; at least {MIN_BASE[name]:.0f} needed)"
            )
        return ivals[name], None

    def rated(name: str, value: float | None) -> dict[str, Any]:
        if name in unavailable:
            return rate(name, None, None, unavailable[name])
        interval, reason = judged(name)
        return rate(name, value, interval, reason)

    if "change_talk_share" in unavailable:
        change_share: dict[str, Any] = {
            "value": None,
            "interval": None,
            "reason": unavailable["change_talk_share"],
        }
    else:
        share_interval, share_reason = judged("change_talk_share")
        # The value counts the coded labels: in session-level CV it agreed with the experts
        # better than summed probabilities (ICC 0.47 vs 0.31).  What stops a few plain answers
        # from reading as "100 % change talk" is the minimum of expected change-or-sustain
        # utterances and the interval, not the way the value is counted.
        counted = _pct(count["change"], count["change"] + count["sustain"])
        change_share = {
            "value": None if share_interval is None else _round(counted),
            "interval": (None if share_interval is None else [round(v, 2) for v in share_interval]),
            "reason": share_reason,
        }
        if share_interval is not None and counted is None:
            change_share["reason"] = "no utterance was coded change or sustain talk"

    total_words = words["therapist"] + words["client"]
    total_secs = seconds["therapist"] + seconds["client"]
    talk_share: dict[str, Any]
    if "talk_share" in unavailable:
        talk_share = {"by_words": None, "by_time": None, "reason": unavailable["talk_share"]}
    else:
        talk_share = {
            "by_words": {
                "therapist": _round(_pct(words["therapist"], total_words)),
                "client": _round(_pct(words["client"], total_words)),
            },
            "by_time": (
                {
                    "therapist": _round(
                        _pct(int(seconds["therapist"] * 1000), int(total_secs * 1000))
                    ),
                    "client": _round(_pct(int(seconds["client"] * 1000), int(total_secs * 1000))),
                }
                if timed and total_secs > 0
                else None
            ),
        }
    return {
        "turns": {"therapist": therapist_turns, "client": client_turns},
        "talk_share": talk_share,
        "counts": {
            "reflections": count["reflection"],
            "simple_reflections": count["simple"],
            "complex_reflections": count["complex"],
            "questions": count["question"],
            "open_questions": count["open"],
            "closed_questions": count["closed"],
            "therapist_input": count["therapist_input"],
            "other": count["other"],
            "change_talk": count["change"],
            "neutral_talk": count["neutral"],
            "sustain_talk": count["sustain"],
            "summaries": markers.get("summary", 0),
            "validations": markers.get("validation", 0),
            "normalising": markers.get("normalising", 0),
            "affirmations": markers.get("affirmation", 0),
            "judgmental": markers.get("judgmental", 0),
            "directive": markers.get("directive", 0),
            "repair": markers.get("repair", 0),
        },
        "reflection_to_question": rated(
            "reflection_to_question", _ratio(count["reflection"], count["question"])
        ),
        "percent_complex_reflections": rated(
            "percent_complex_reflections",
            _pct(count["complex"], count["simple"] + count["complex"]),
        ),
        "percent_open_questions": rated(
            "percent_open_questions", _pct(count["open"], count["open"] + count["closed"])
        ),
        "change_talk_share": change_share,
        "change_sustain": (
            {"ratio": None, "change_talk_share": None}
            if "change_sustain" in unavailable
            else {
                "ratio": _round(_ratio(count["change"], count["sustain"])),
                "change_talk_share": _round(
                    _pct(count["change"], count["change"] + count["sustain"])
                ),
            }
        ),
        "unavailable": unavailable,
        "rupture_moments": ruptures,
    }


def _round(v: float | None, nd: int = 2) -> float | None:
    return None if v is None else round(v, nd)


def _dig(summary: Mapping[str, Any], *path: str) -> Any:
    value: Any = summary
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def _count(summary: Mapping[str, Any], name: str) -> float | None:
    value = _dig(summary, "counts", name)
    return None if value is None else float(value)


def flat_metrics(summary: Mapping[str, Any]) -> dict[str, float | None]:
    """The headline numbers of one session summary, flat, for trends.

    Summaries stored by older versions may lack a part; that metric is then None (no value)
    rather than an error, so one old session cannot break a whole trend.
    """
    moments = summary.get("rupture_moments")
    return {
        "reflection_to_question": _dig(summary, "reflection_to_question", "value"),
        "percent_complex_reflections": _dig(summary, "percent_complex_reflections", "value"),
        "percent_open_questions": _dig(summary, "percent_open_questions", "value"),
        "therapist_talk_share": _dig(summary, "talk_share", "by_words", "therapist"),
        "change_talk_share": (
            _dig(summary, "change_talk_share", "value")
            if isinstance(summary.get("change_talk_share"), Mapping)
            else _dig(summary, "change_sustain", "change_talk_share")
        ),
        "rupture_markers": None if moments is None else float(len(moments)),
        "judgmental": _count(summary, "judgmental"),
        "validations": _count(summary, "validations"),
        "affirmations": _count(summary, "affirmations"),
        "summaries": _count(summary, "summaries"),
    }


def _slope(values: Sequence[float], weights: Sequence[float] | None = None) -> float | None:
    """Weighted least-squares slope per session (equal weights when ``weights`` is None)."""
    n = len(values)
    if n < 2:
        return None
    w = list(weights) if weights is not None else [1.0] * n
    sw = sum(w)
    if sw <= 0:
        return None
    mx = sum(wi * i for i, wi in enumerate(w)) / sw
    my = sum(wi * v for wi, v in zip(w, values, strict=True)) / sw
    den = sum(wi * (i - mx) ** 2 for i, wi in enumerate(w))
    if den <= 0:
        return None
    return (
        sum(wi * (i - mx) * (v - my) for i, (wi, v) in enumerate(zip(w, values, strict=True))) / den
    )


WEIGHTED = (
    "reflection_to_question",
    "percent_complex_reflections",
    "percent_open_questions",
    "change_talk_share",
)


def _certainty(summary: Mapping[str, Any], key: str) -> float | None:
    """1 / interval width² for a metric with an interval, 0 where the session said there was too
    little to tell, None where the summary predates intervals."""
    m = summary.get(key)
    if not isinstance(m, Mapping) or "interval" not in m:
        return None
    iv = m["interval"]
    if not iv:
        return 0.0
    width = max(float(iv[1]) - float(iv[0]), 1e-3 if key == "reflection_to_question" else 0.1)
    return 1.0 / width**2


def _weights(summaries: Sequence[Mapping[str, Any]], key: str) -> list[float] | None:
    """Per session, how much it can tell about ``key`` (largest = 1); None for equal weights
    (a metric without intervals, or a series mixing summaries with and without them)."""
    if key not in WEIGHTED:
        return None
    raw = [_certainty(s, key) for s in summaries]
    if any(r is None for r in raw):
        return None
    top = max(raw)  # type: ignore[type-var]
    if not top:
        return None
    return [float(r) / float(top) for r in raw]  # type: ignore[arg-type]


def trend(summaries: Sequence[Mapping[str, Any]], min_change: float = 0.05) -> dict[str, Any]:
    """Trend of each headline metric over sessions in time order (e.g. one client's sessions).

    ``direction`` is "improving"/"worsening" when the least-squares slope moves the metric by more
    than ``min_change`` of its mean over the series, "stable" otherwise, and "n/a" for fewer than
    two sessions with a value (or for talk share, where neither direction is better).  Where the
    summaries carry intervals, each session is weighted by how much it can tell (1 / interval
    width², relative to the most certain session; a session with too little to say counts 0);
    ``weights`` lists them (None: equal weights).
    """
    series: dict[str, list[float | None]] = {}
    for s in summaries:
        for k, v in flat_metrics(s).items():
            series.setdefault(k, []).append(v)
    out: dict[str, Any] = {"sessions": len(summaries), "metrics": {}}
    for k, values in series.items():
        weights = _weights(summaries, k)
        pairs = [
            (v, 1.0 if weights is None else weights[i])
            for i, v in enumerate(values)
            if v is not None
        ]
        informative = [(v, w) for v, w in pairs if w > 0]
        present = [v for v, _ in informative]
        w_present = [w for _, w in informative]
        slope = _slope(present, w_present)
        mean = sum(v * w for v, w in informative) / sum(w_present) if informative else None
        direction = "n/a"
        if slope is not None and k in HIGHER_IS_BETTER:
            scale = max(abs(mean or 0.0), 1e-9)
            change = slope * (len(present) - 1) / scale
            if abs(change) <= min_change:
                direction = "stable"
            else:
                direction = "improving" if (change > 0) == HIGHER_IS_BETTER[k] else "worsening"
        out["metrics"][k] = {
            "values": values,
            "weights": None if weights is None else [round(w, 3) for w in weights],
            "mean": _round(mean),
            "first": present[0] if present else None,
            "last": present[-1] if present else None,
            "slope_per_session": _round(slope, 3),
            "direction": direction,
        }
    return out


def caseload_trend(sessions_by_client: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, Any]:
    """A therapist's caseload: per-client trends plus the mean of each metric over all sessions
    (weighted like :func:`trend` by how much each session can tell).  Never a ranking of staff."""
    per_client = {cid: trend(list(ss)) for cid, ss in sessions_by_client.items()}
    pooled: dict[str, list[tuple[float, float | None]]] = {}
    for ss in sessions_by_client.values():
        for s in ss:
            for k, v in flat_metrics(s).items():
                if v is not None:
                    c = _certainty(s, k) if k in WEIGHTED else None
                    pooled.setdefault(k, []).append((v, c))
    overall = {}
    for k, pairs in pooled.items():
        # weighted by certainty only when every session has an interval (see trend)
        if all(c is not None for _, c in pairs) and any(c for _, c in pairs):
            used = [(v, float(c)) for v, c in pairs if c]
            mean = sum(v * c for v, c in used) / sum(c for _, c in used)
        else:
            used = [(v, 1.0) for v, _ in pairs]
            mean = sum(v for v, _ in used) / len(used)
        overall[k] = {"mean": _round(mean), "sessions": len(used)}
    directions: dict[str, dict[str, int]] = {}
    for t in per_client.values():
        for k, m in t["metrics"].items():
            d = directions.setdefault(k, {"improving": 0, "stable": 0, "worsening": 0, "n/a": 0})
            d[m["direction"]] += 1
    return {
        "clients": len(sessions_by_client),
        "sessions": sum(len(s) for s in sessions_by_client.values()),
        "overall": overall,
        "client_directions": directions,
        "per_client": per_client,
    }
