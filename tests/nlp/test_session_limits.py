"""Summaries say only what a transcript can support: edge cases, intervals, uncertain levels."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from alliance.nlp.cli import analyze_main
from alliance.nlp.intervals import (
    MIN_THERAPIST_TURNS,
    confusion_from_metadata,
    expected_counts,
    intervals,
)
from alliance.nlp.metrics import rate, session_summary
from alliance.nlp.model import load_model

RATED = ("reflection_to_question", "percent_complex_reflections", "percent_open_questions")
LEVELS = {"good", "fair", "below fair", "uncertain", None}


def analyse(path) -> dict:
    out, err = io.StringIO(), io.StringIO()
    code = analyze_main([str(path), "--format", "json"], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


def check_contract(summary: dict) -> None:
    for name in RATED:
        m = summary[name]
        assert {"value", "interval", "fair", "good", "level", "reason", "source"} <= set(m)
        assert m["level"] in LEVELS
        if m["interval"] is None:
            assert m["level"] != "good" and m["level"] != "fair" and m["level"] != "below fair"
            assert isinstance(m["reason"], str) and m["reason"]
        else:
            low, high = m["interval"]
            assert low <= high
        if m["level"] == "uncertain":
            assert isinstance(m["reason"], str) and m["reason"]
    share = summary["change_talk_share"]
    assert set(share) == {"value", "interval", "reason"}
    if share["interval"] is None:
        assert share["reason"]
    else:
        assert 0.0 <= share["interval"][0] <= share["interval"][1] <= 100.0
    # the plain ratio and share fields stay alongside the intervals
    assert {"ratio", "change_talk_share"} <= set(summary["change_sustain"])
    assert "by_words" in summary["talk_share"] and "counts" in summary


def write(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- edge cases --------------------------------------------------------------------------------


def test_one_speaker_is_analysed_but_client_measures_are_not_available(tmp_path):
    lines = []
    for i in range(12):
        lines += [f"[00:{i:02d}:00] Counsellor: What did you notice about your mood on day {i}?"]
    data = analyse(write(tmp_path, "mono.txt", lines))
    s = data["summary"]
    check_contract(s)
    assert s["turns"]["client"] == 0
    reason = s["unavailable"]["change_talk_share"]
    assert "no client speech" in reason
    assert s["change_talk_share"] == {"value": None, "interval": None, "reason": reason}
    assert s["change_sustain"] == {"ratio": None, "change_talk_share": None}
    assert s["talk_share"]["by_words"] is None and s["talk_share"]["reason"] == reason
    assert all(u["talk_type"] is None for u in data["utterances"])


def test_one_speaker_text_report_says_not_available(tmp_path):
    path = write(tmp_path, "mono.txt", ["Counsellor: Hello there.", "Counsellor: Anyone?"])
    out, err = io.StringIO(), io.StringIO()
    assert analyze_main([str(path)], stdout=out, stderr=err) == 0
    report = out.getvalue()
    assert "not available: no client speech" in report
    assert "n/a (only 1 therapist turn" in report


def test_few_therapist_turns_are_not_rated(fixtures):
    s = analyse(fixtures / "zoom.vtt")["summary"]
    check_contract(s)
    assert s["turns"]["therapist"] < MIN_THERAPIST_TURNS
    for name in RATED:
        assert s[name]["value"] is None and s[name]["level"] is None
        assert s[name]["interval"] is None
        assert f"at least {MIN_THERAPIST_TURNS} are needed" in s[name]["reason"]
        assert s["unavailable"][name] == s[name]["reason"]
    # counts are still reported: the analysis itself ran
    assert s["counts"]["questions"] >= 1


def test_few_client_turns_leave_client_talk_unjudged(fixtures):
    s = analyse(fixtures / "session.srt")["summary"]
    assert s["change_talk_share"]["value"] is None
    assert "client turn" in s["change_talk_share"]["reason"]


# -- plain client answers ---------------------------------------------------------------------


def test_plain_client_answers_do_not_collapse_to_change_talk(fixtures):
    data = analyse(fixtures / "plain_answers.txt")
    client = [u for u in data["utterances"] if u["speaker"] == "client"]
    assert len(client) == 12
    codes = [u["talk_type"] for u in client]
    assert codes.count("change") == 0, codes
    assert codes.count("neutral") >= 8, codes
    for u in client:
        probs = u["probabilities"]["talk_type"]
        assert set(probs) == {"change", "neutral", "sustain"}
        assert sum(probs.values()) == pytest.approx(1.0, abs=1e-3)
        assert probs["change"] < 0.5
    share = data["summary"]["change_talk_share"]
    # twelve plain answers say little about change talk: no confident share either way
    assert share["value"] is None or share["interval"][1] - share["interval"][0] >= 50


def test_change_talk_share_needs_enough_expected_change_or_sustain_talk():
    # one change-coded answer among neutral ones: a share of change talk over one answer would read 100 %
    def client(talk, change, neutral, sustain):
        probs = {"change": change, "neutral": neutral, "sustain": sustain}
        return {
            "speaker": "client",
            "text": "ok",
            "talk_type": talk,
            "probabilities": {"talk_type": probs},
        }

    few = [client("change", 0.5, 0.4, 0.1)] + [client("neutral", 0.1, 0.85, 0.05)] * 5
    assert expected_counts(few)["change"] + expected_counts(few)["sustain"] < 3
    s = session_summary(few, min_therapist_turns=0)
    assert s["counts"]["change_talk"] == 1 and s["counts"]["sustain_talk"] == 0
    assert s["change_talk_share"]["value"] is None
    assert s["change_talk_share"]["reason"].startswith("too few change or sustain talk")
    # with enough client talk the value is the coded share, inside a simulated interval
    many = few * 4 + [client("sustain", 0.1, 0.3, 0.6)] * 4
    s = session_summary(many, min_therapist_turns=0)
    assert s["change_talk_share"]["value"] == pytest.approx(50.0)
    low, high = s["change_talk_share"]["interval"]
    assert low < 50.0 < high


# -- intervals and levels ---------------------------------------------------------------------


def therapist(behaviour, sub=None, p=1.0):
    others = [c for c in ("reflection", "question", "therapist_input", "other") if c != behaviour]
    probs = {"behaviour": {behaviour: p, **{c: (1 - p) / 3 for c in others}}}
    u = {"speaker": "therapist", "text": "x", "behaviour": behaviour, "probabilities": probs}
    if behaviour == "reflection":
        u["reflection_type"] = sub
        probs["reflection_type"] = {"simple": 1.0 if sub == "simple" else 0.0}
        probs["reflection_type"]["complex"] = 1 - probs["reflection_type"]["simple"]
    if behaviour == "question":
        u["question_type"] = sub
        probs["question_type"] = {"open": 1.0 if sub == "open" else 0.0}
        probs["question_type"]["closed"] = 1 - probs["question_type"]["open"]
    return u


def session(n_refl, n_q, p=1.0, complex_share=0.5, open_share=0.5):
    utts = []
    for i in range(n_refl):
        utts.append(
            therapist("reflection", "complex" if i < n_refl * complex_share else "simple", p)
        )
    for i in range(n_q):
        utts.append(therapist("question", "open" if i < n_q * open_share else "closed", p))
    return utts


def test_certain_codes_give_a_point_interval_and_a_level():
    s = session_summary(session(30, 10, p=1.0))
    assert s["reflection_to_question"]["interval"] == [3.0, 3.0]
    assert s["reflection_to_question"]["level"] == "good"
    assert s["reflection_to_question"]["reason"] is None


def test_intervals_are_seeded_and_narrow_with_more_utterances():
    small, big = session(6, 6, p=0.8), session(60, 60, p=0.8)
    assert intervals(small) == intervals(small)
    w_small = np.diff(intervals(small)["percent_open_questions"])[0]
    w_big = np.diff(intervals(big)["percent_open_questions"])[0]
    assert w_big < w_small


def test_level_is_a_band_only_when_the_whole_interval_lies_in_it():
    assert rate("percent_open_questions", 75.0, (71.0, 90.0))["level"] == "good"
    assert rate("percent_open_questions", 60.0, (52.0, 69.0))["level"] == "fair"
    assert rate("percent_open_questions", 30.0, (10.0, 49.0))["level"] == "below fair"
    mixed = rate("percent_open_questions", 60.0, (45.0, 75.0))
    assert mixed["level"] == "uncertain"
    assert "from below fair to good" in mixed["reason"]
    none = rate("percent_complex_reflections", 100.0, None, "too few reflections in this session")
    assert none["level"] == "uncertain" and none["interval"] is None
    assert none["reason"] == "too few reflections in this session"


def test_one_reflection_in_a_long_session_is_never_rated():
    utts = session(1, 20, p=0.95) + [therapist("other") for _ in range(5)]
    s = session_summary(utts)
    m = s["percent_complex_reflections"]
    assert m["level"] == "uncertain" and m["interval"] is None
    assert m["reason"].startswith("too few reflections in this session to judge")


def test_confusion_from_the_artifact_widens_intervals():
    confusion = confusion_from_metadata(load_model().metadata_)
    assert set(confusion) >= {"behaviour", "talk_type", "question_type", "reflection_type"}
    for m in confusion.values():
        assert np.allclose(m.sum(axis=1), 1.0)
    utts = session(20, 20, p=1.0)
    plain = intervals(utts)["reflection_to_question"]
    mixed = intervals(utts, confusion)["reflection_to_question"]
    assert plain == (1.0, 1.0)
    assert mixed[0] < 1.0 < mixed[1]


def test_long_session_json_contract(fixtures):
    data = analyse(fixtures / "long_session.txt")
    s = data["summary"]
    check_contract(s)
    assert s["unavailable"] == {}
    for name in RATED:
        assert s[name]["value"] is not None
        assert s[name]["interval"] is not None
    share = s["change_talk_share"]
    assert share["value"] is not None and share["interval"] is not None
    assert share["interval"][0] <= share["value"] <= share["interval"][1]
    for u in data["utterances"]:
        heads = set(u["probabilities"])
        assert heads == (
            {"talk_type"}
            if u["speaker"] == "client"
            else {"behaviour", "reflection_type", "question_type"}
        )
