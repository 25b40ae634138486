import dataclasses

import pytest

from alliance.measures import registry
from alliance.measures.scoring import ScoringError, score, score_total_only


def _phq9_with_total(total, item9=0):
    """Nine answers summing to ``total`` (item 9 fixed), filled from item 1."""
    answers = [0] * 9
    answers[8] = item9
    rest = total - item9
    for i in range(8):
        answers[i] = min(3, rest)
        rest -= answers[i]
    assert rest == 0
    return answers


@pytest.mark.parametrize(
    "total,band,above",
    [
        (0, "minimal", False),
        (4, "minimal", False),
        (5, "mild", False),
        (9, "mild", False),
        (10, "moderate", True),
        (14, "moderate", True),
        (15, "moderately severe", True),
        (19, "moderately severe", True),
        (20, "severe", True),
        (24, "severe", True),
    ],
)
def test_phq9_every_band_edge(total, band, above):
    result = score("phq9", _phq9_with_total(total))
    assert result.total == total
    assert result.severity == band
    assert ("above_cutoff" in result.flags) is above
    assert result.item9_positive is False


def test_phq9_maximum():
    result = score("phq9", [3] * 9)
    assert (result.total, result.severity, result.item9_positive) == (27, "severe", True)


@pytest.mark.parametrize(
    "total,band",
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_every_band_edge(total, band):
    answers, rest = [], total
    for _ in range(7):
        answers.append(min(3, rest))
        rest -= answers[-1]
    result = score("gad7", answers)
    assert (result.total, result.severity) == (total, band)
    assert ("above_cutoff" in result.flags) is (total >= 10)
    assert result.item9_positive is None  # GAD-7 has no safety item


def test_item9_positive_whatever_the_total():
    result = score("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert result.total == 1 and result.severity == "minimal"
    assert result.item9_positive is True
    assert "item9_positive" in result.flags
    assert score("phq9", [3, 3, 3, 3, 3, 3, 3, 3, 0]).item9_positive is False


def test_proration_with_one_missing_rounds_half_up():
    # 4 over 8 items -> 4 x 9 / 8 = 4.5 -> 5 (mild, not minimal): half rounds up, not to even
    result = score("phq9", [1, 1, 1, 1, 0, 0, 0, None, 0])
    assert result.total == 5 and result.severity == "mild"
    assert result.prorated and "prorated" in result.flags
    assert result.missing_items == ["item8"]
    assert "4 x 9 / 8" in result.reason
    # 13 x 9 / 8 = 14.625 -> 15
    assert (
        score(
            "phq9",
            {
                "item1": 3,
                "item2": 3,
                "item3": 3,
                "item4": 3,
                "item5": 1,
                "item6": None,
                "item7": 0,
                "item8": 0,
                "item9": 0,
            },
        ).total
        == 15
    )
    # GAD-7: 9 x 7 / 6 = 10.5 -> 11
    assert score("gad7", [3, 3, 3, 0, 0, 0, None]).total == 11


def test_no_total_with_two_missing():
    result = score("phq9", [3, 3, None, 3, 3, None, 3, 3, 0])
    assert result.total is None and result.severity is None
    assert "incomplete" in result.flags and "above_cutoff" not in result.flags
    assert result.reason == (
        "2 of 9 items unanswered (item3, item6); PHQ-9 totals are prorated only when at most "
        "1 item is missing, so there is no total."
    )
    assert result.item9_positive is False  # item 9 still read without a total


def test_missing_item9_is_flagged_not_assumed_zero():
    result = score("phq9", [1, 1, 1, 1, 1, 1, 1, 1, None])
    assert result.item9_positive is None
    assert "item9_missing" in result.flags
    assert result.total == 9


def test_difficulty_question_is_recorded_not_scored():
    answers = {f"item{n}": 1 for n in range(1, 10)}
    answers["difficulty"] = 3
    assert score("phq9", answers).total == 9
    with pytest.raises(ScoringError, match=r"PHQ-9 item 10: 4 is out of range \(allowed 0-3\)"):
        score("phq9", {**answers, "difficulty": 4})


@pytest.mark.parametrize(
    "answers,message",
    [
        ([1, 2, 0, 4, 1, 0, 2, 1, 0], r"PHQ-9 item 4: 4 is out of range \(allowed 0-3\)"),
        ([1, 2, 0, -1, 1, 0, 2, 1, 0], r"PHQ-9 item 4: -1 is out of range"),
        ([1, 2, "x", 1, 1, 0, 2, 1, 0], r"PHQ-9 item 3: 'x' is not a number \(allowed 0-3\)"),
        ([1, 2, 1.5, 1, 1, 0, 2, 1, 0], r"PHQ-9 item 3: 1.5 is not a whole number"),
        ([1, 2, True, 1, 1, 0, 2, 1, 0], r"PHQ-9 item 3: True is not a number"),
        ([1, 2, 0], r"PHQ-9 needs 9 answers, got 3"),
        ({"item10": 1}, r"'item10' is not an item"),
    ],
)
def test_invalid_answers_name_item_and_range(answers, message):
    with pytest.raises(ScoringError, match=message):
        score("phq9", answers)


def test_scoring_error_carries_the_item():
    with pytest.raises(ScoringError) as info:
        score("gad7", [0, 0, 0, 0, 0, 9, 0])
    assert (info.value.item_id, info.value.item_number) == ("item6", 6)


def test_string_answers_from_forms_and_csv_are_parsed():
    assert (
        score("gad7", ["1", " 2", "0", "3", "", "1", "1"]).total == 9
    )  # "" is missing -> prorated 8x7/6=9.33 -> 9


def test_too_fast_flag():
    answers = [1] * 9
    assert "too_fast" in score("phq9", answers, duration_seconds=8.9).flags  # under 1 s x 9 items
    assert "too_fast" not in score("phq9", answers, duration_seconds=9).flags
    assert "too_fast" not in score("phq9", answers).flags
    with pytest.raises(ScoringError, match="duration"):
        score("phq9", answers, duration_seconds=-1)


def _with_reverse_item():
    wai = registry.load("wai_sr")
    items = tuple(dataclasses.replace(i, reverse=True) if i.id == "item3" else i for i in wai.items)
    return dataclasses.replace(wai, id="wai_reverse_demo", items=items)


def test_reverse_scoring_and_identical_answers_flag():
    inst = _with_reverse_item()
    result = score(inst, [5] * 12)
    assert result.item_scores["item3"] == 1  # 1 + 5 - 5
    assert result.total == 56
    assert result.subscales["bond"] == 1 + 5 + 5 + 5
    assert "identical_answers" in result.flags
    varied = score(inst, [5] * 11 + [4])
    assert "identical_answers" not in varied.flags
    # without reverse-worded items identical answers are plausible and not flagged
    assert "identical_answers" not in score("wai_sr", [5] * 12).flags


def test_wai_sr_subscales():
    result = score("wai_sr", [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2])
    assert result.subscales == {"goal": 4 + 1 + 3 + 1, "task": 1 + 2 + 5 + 2, "bond": 3 + 5 + 2 + 4}
    assert result.total == 33
    with pytest.raises(ScoringError, match="WAI-SR needs 12 answers, got 11"):
        score("wai_sr", [3] * 11)
    assert score("wai_sr", [3] * 11 + [None]).total is None  # no proration rule for WAI-SR


def test_srs_below_cutoff_with_decimal_lines():
    result = score("srs", [9.1, 8.5, 9.0, 8.2])
    assert result.total == pytest.approx(34.8)
    assert "below_cutoff" in result.flags
    assert "below_cutoff" not in score("srs", [9, 9, 9, 9]).flags  # 36 is not below 36
    with pytest.raises(ScoringError, match=r"SRS item 2: 10.5 is out of range \(allowed 0-10\)"):
        score("srs", [9, 10.5, 9, 9])


def test_session_alliance_check_mean_and_rupture_answer():
    result = score(
        "sac_client",
        {
            "item1": 6,
            "item2": 5,
            "item3": 3,
            "item4": 4,
            "felt_off": "yes",
            "do_differently": "Less homework talk",
        },
    )
    assert result.total == 4.5
    assert result.subscales == {"bond": 6, "goals": 5, "tasks": 3, "overall": 4}
    assert result.rupture_reported is True
    assert result.validated is False
    low = score("sac_client", [3, 3, 4, 3])
    assert low.total == 3.25 and "below_cutoff" in low.flags and low.rupture_reported is None
    with pytest.raises(ScoringError, match="SAC item 5: 'maybe' is not yes or no"):
        score("sac_client", {"item1": 6, "item2": 5, "item3": 3, "item4": 4, "felt_off": "maybe"})


def test_score_only_entry_of_a_paper_total():
    result = score_total_only("phq9", 17)
    assert (result.total, result.severity, result.item9_positive) == (17, "moderately severe", None)
    assert "above_cutoff" in result.flags
    with pytest.raises(ScoringError, match=r"out of range \(allowed 0-27\)"):
        score_total_only("phq9", 28)
    assert "below_cutoff" in score_total_only("srs", 35.5).flags


def test_to_dict_contract():
    d = score("phq9", [1, 2, 0, 3, 1, 0, 2, 1, 0]).to_dict()
    assert {k: d[k] for k in ("instrument", "total", "severity", "item9_positive", "flags")} == {
        "instrument": "phq9",
        "total": 10,
        "severity": "moderate",
        "item9_positive": False,
        "flags": ["above_cutoff"],
    }
