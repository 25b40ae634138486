from __future__ import annotations

from functools import partial

import pytest

from alliance.nlp.metrics import caseload_trend, rate, session_summary, trend

# the arithmetic tests use sessions shorter than the minimum that real transcripts must reach
short_ok = partial(session_summary, min_therapist_turns=1, min_client_turns=1)


def utt(
    i,
    speaker,
    text,
    start=None,
    end=None,
    behaviour=None,
    rtype=None,
    qtype=None,
    talk=None,
    markers=(),
):
    return {
        "index": i,
        "speaker": speaker,
        "text": text,
        "start": start,
        "end": end,
        "behaviour": behaviour,
        "reflection_type": rtype,
        "question_type": qtype,
        "input_type": None,
        "talk_type": talk,
        "markers": [{"type": m, "cue": "x", "experimental": True} for m in markers],
        "confidence": {},
    }


# Hand-computed example: 3 reflections (2 complex), 2 questions (1 open), 1 input;
# therapist words 2+2+2+2+2+2 = 12, client words 3+3+2 = 8 -> 60% / 40%;
# therapist seconds 6 x 2 = 12, client 3 x 4 = 12 -> 50% / 50%.
SESSION = [
    utt(0, "therapist", "How come?", 0, 2, "question", qtype="open"),
    utt(1, "client", "I want change", 2, 6, talk="change"),
    utt(2, "therapist", "You want", 6, 8, "reflection", rtype="simple"),
    utt(3, "client", "but I'm scared", 8, 12, talk="sustain", markers=("rupture_withdrawal",)),
    utt(
        4,
        "therapist",
        "Change frightens",
        12,
        14,
        "reflection",
        rtype="complex",
        markers=("validation",),
    ),
    utt(5, "therapist", "Is it?", 14, 16, "question", qtype="closed"),
    utt(6, "therapist", "Part wants", 16, 18, "reflection", rtype="complex", markers=("summary",)),
    utt(7, "therapist", "Try walking", 18, 20, "therapist_input"),
    utt(8, "client", "I will", 20, 24, talk="change"),
]


def test_session_summary_hand_computed():
    s = short_ok(SESSION)
    assert s["talk_share"]["by_words"] == {"therapist": 60.0, "client": 40.0}
    assert s["talk_share"]["by_time"] == {"therapist": 50.0, "client": 50.0}
    assert s["reflection_to_question"]["value"] == 1.5
    assert s["percent_complex_reflections"]["value"] == pytest.approx(66.67)
    assert s["percent_open_questions"]["value"] == 50.0
    # two questions and three reflections are too few to rate anything
    for name, base in (
        ("reflection_to_question", "questions"),
        ("percent_complex_reflections", "reflections"),
        ("percent_open_questions", "questions"),
    ):
        assert s[name]["level"] == "uncertain"
        assert s[name]["interval"] is None
        assert f"too few {base} in this session to judge" in s[name]["reason"]
    assert s["change_sustain"] == {"ratio": 2.0, "change_talk_share": 66.67}
    assert s["counts"]["summaries"] == 1 and s["counts"]["validations"] == 1
    assert s["rupture_moments"] == [
        {"index": 3, "type": "rupture_withdrawal", "start": 8, "cue": "x"}
    ]


def test_no_time_share_without_timestamps_and_no_ratio_without_questions():
    s = short_ok(
        [
            utt(0, "therapist", "so you feel", behaviour="reflection", rtype="simple"),
            utt(1, "client", "yes", talk="neutral"),
        ]
    )
    assert s["talk_share"]["by_time"] is None
    assert s["reflection_to_question"]["value"] is None
    assert s["reflection_to_question"]["level"] is None
    assert s["change_sustain"]["ratio"] is None


@pytest.mark.parametrize(
    ("value", "level"), [(0.5, "below fair"), (1.0, "fair"), (1.99, "fair"), (2.0, "good")]
)
def test_miti_thresholds(value, level):
    assert rate("reflection_to_question", value)["level"] == level


def test_trend_and_caseload():
    a = short_ok(SESSION[:3])  # R:Q 1.0
    b = short_ok(SESSION)  # R:Q 1.5
    c = short_ok(
        SESSION + [utt(9, "therapist", "you feel", behaviour="reflection", rtype="complex")] * 3
    )
    t = trend([a, b, c])
    rq = t["metrics"]["reflection_to_question"]
    assert rq["values"] == [1.0, 1.5, 3.0]
    assert rq["direction"] == "improving"
    assert t["metrics"]["therapist_talk_share"]["direction"] == "n/a"
    worse = trend([c, a])["metrics"]["reflection_to_question"]
    assert worse["direction"] == "worsening"
    load = caseload_trend({"client-1": [a, b, c], "client-2": [b]})
    assert load["clients"] == 2 and load["sessions"] == 4
    assert load["overall"]["reflection_to_question"]["mean"] == pytest.approx(
        (1.0 + 1.5 + 3.0 + 1.5) / 4
    )
    assert load["client_directions"]["reflection_to_question"]["improving"] == 1
    assert load["client_directions"]["reflection_to_question"]["n/a"] == 1


def test_trend_tolerates_summaries_missing_parts():
    partial = {"reflection_to_question": {"value": 1.0}, "counts": {"summaries": 2}}
    full_enough = {
        "reflection_to_question": {"value": 2.0},
        "counts": {"summaries": 3},
        "rupture_moments": [],
    }
    out = trend([partial, full_enough])
    assert out["metrics"]["reflection_to_question"]["direction"] == "improving"
    assert out["metrics"]["therapist_talk_share"]["values"] == [None, None]
    assert out["metrics"]["rupture_markers"]["values"] == [None, 0.0]


def _with_interval(value, low, high):
    return {
        "reflection_to_question": {"value": value, "interval": [low, high], "level": "uncertain"}
    }


def test_trend_weights_each_session_by_how_much_it_can_tell():
    # a wide, uninformative session in the middle should barely move the trend
    sessions = [
        _with_interval(1.0, 0.9, 1.1),
        _with_interval(5.0, 0.0, 10.0),
        _with_interval(1.2, 1.1, 1.3),
    ]
    rq = trend(sessions)["metrics"]["reflection_to_question"]
    assert rq["weights"][0] == pytest.approx(1.0) and rq["weights"][1] < 0.001
    assert rq["mean"] == pytest.approx(1.1, abs=0.01)
    assert rq["slope_per_session"] == pytest.approx(0.1, abs=0.01)
    # unweighted, the middle session would dominate the mean
    assert sum(v for v in rq["values"]) / 3 > 2.0


def test_a_session_with_too_little_to_say_does_not_count_in_the_trend():
    none = {"reflection_to_question": {"value": 9.0, "interval": None, "level": "uncertain"}}
    rq = trend([_with_interval(1.0, 0.8, 1.2), none, _with_interval(1.4, 1.2, 1.6)])["metrics"][
        "reflection_to_question"
    ]
    assert rq["weights"][1] == 0.0 and rq["mean"] == pytest.approx(1.2)
    assert rq["direction"] == "improving"


def test_summaries_without_intervals_keep_equal_weights():
    old = {"reflection_to_question": {"value": 1.0}}
    rq = trend([old, _with_interval(2.0, 1.5, 2.5)])["metrics"]["reflection_to_question"]
    assert rq["weights"] is None and rq["mean"] == pytest.approx(1.5)


def test_caseload_mean_weights_sessions_by_certainty():
    load = caseload_trend(
        {
            "a": [_with_interval(1.0, 0.9, 1.1), _with_interval(5.0, 0.0, 10.0)],
            "b": [_with_interval(1.2, 1.1, 1.3)],
        }
    )
    assert load["overall"]["reflection_to_question"]["mean"] == pytest.approx(1.1, abs=0.01)
