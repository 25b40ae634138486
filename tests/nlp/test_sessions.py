"""Session-level evaluation: ICC, expert summaries, and the CV loop on tiny fitted models."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from alliance.nlp.cli import nlp_main
from alliance.nlp.data import Record, load_annomi_csv
from alliance.nlp.intervals import needed_factor, widen, widening_from_metadata
from alliance.nlp.model import default_artifact, load_model
from alliance.nlp.sessions import calibrate_widening, gold_values, icc_2_1, summarise
from alliance.nlp.training import store_session_report

TINY = Path(__file__).parent / "fixtures" / "tiny_annomi.csv"


def test_icc_is_one_for_perfect_agreement_and_penalises_a_constant_offset():
    a = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert icc_2_1(a, a) == pytest.approx(1.0)
    # absolute agreement: the same ranking shifted by a constant is not agreement
    shifted = icc_2_1(a, [v + 4.0 for v in a])
    assert shifted is not None and shifted < 0.4
    # Shrout & Fleiss-style check against the ANOVA formula done by hand
    x, y = [2.0, 4.0, 6.0, 8.0], [3.0, 4.0, 7.0, 7.0]
    data = np.column_stack([x, y])
    n, k = data.shape
    gm = data.mean()
    msr = k * ((data.mean(1) - gm) ** 2).sum() / (n - 1)
    msc = n * ((data.mean(0) - gm) ** 2).sum() / (k - 1)
    mse = (((data - gm) ** 2).sum() - msr * (n - 1) - msc * (k - 1)) / ((n - 1) * (k - 1))
    expected = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    assert icc_2_1(x, y) == pytest.approx(expected)
    assert icc_2_1([1.0, 2.0], [1.0, 2.0]) is None


def rec(speaker, behaviour=None, sub=None, talk=None):
    r = Record("t", "g", 0, speaker, "x", behaviour=behaviour, talk_type=talk)
    if behaviour == "reflection":
        r.reflection_type = sub
    if behaviour == "question":
        r.question_type = sub
    return r


def test_gold_values_from_expert_codes():
    recs = [
        rec("therapist", "reflection", "complex"),
        rec("therapist", "reflection", "simple"),
        rec("therapist", "reflection", "complex"),
        rec("therapist", "question", "open"),
        rec("therapist", "question", "closed"),
        rec("therapist", "other"),
        rec("client", talk="change"),
        rec("client", talk="neutral"),
        rec("client", talk="sustain"),
        rec("client", talk="change"),
    ]
    g = gold_values(recs)
    assert g["reflection_to_question"] == pytest.approx(1.5)
    assert g["percent_complex_reflections"] == pytest.approx(200 / 3)
    assert g["percent_open_questions"] == pytest.approx(50.0)
    assert g["change_talk_share"] == pytest.approx(200 / 3)
    assert gold_values([rec("therapist", "other")])["reflection_to_question"] is None


def test_summarise_counts_coverage_only_where_there_is_an_interval():
    def row(value, interval, gold, level="uncertain"):
        cell = {"value": value, "interval": interval, "gold": gold, "level": level}
        return {
            name: dict(cell)
            for name in (
                "reflection_to_question",
                "percent_complex_reflections",
                "percent_open_questions",
                "change_talk_share",
            )
        } | {"sustain_recall": None}

    sessions = [
        row(1.0, [0.5, 1.5], 1.2),
        row(2.0, [1.5, 2.5], 3.0),
        row(3.0, None, 3.0),
        row(4.0, [3.0, 5.0], 4.0, "good"),
    ]
    m = summarise(sessions)["reflection_to_question"]
    assert m["sessions_with_interval"] == 3 and m["coverage"] == pytest.approx(2 / 3)
    assert m["sessions_with_value"] == 4 and m["mae"] == pytest.approx((0.2 + 1.0) / 4)
    assert m["sessions_rated"] == 1 and m["mean_interval_width"] == pytest.approx(4 / 3)


sklearn = pytest.importorskip("sklearn", reason="refitting needs the alliance[train] extra")


@pytest.mark.slow
def test_evaluate_sessions_cli_on_tiny_data(tmp_path):
    shutil.copy(TINY, tmp_path / "AnnoMI-full.csv")
    out, err = io.StringIO(), io.StringIO()
    code = nlp_main(
        ["evaluate", "--sessions", "--data", str(tmp_path), "--folds", "2", "--format", "json"],
        stdout=out,
        stderr=err,
    )
    assert code == 0, err.getvalue()
    report = json.loads(out.getvalue())
    transcripts = {r.transcript_id for r in load_annomi_csv(TINY)}
    assert {s["transcript"] for s in report["sessions"]} == transcripts
    assert "fold 2/2" in err.getvalue()
    for name in ("reflection_to_question", "percent_open_questions", "change_talk_share"):
        m = report["metrics"][name]
        assert m["coverage"] is None or 0.0 <= m["coverage"] <= 1.0
        assert m["expert_icc"] > 0
    text_out = io.StringIO()
    assert (
        nlp_main(
            ["evaluate", "--sessions", "--data", str(tmp_path), "--folds", "2"],
            stdout=text_out,
            stderr=io.StringIO(),
        )
        == 0
    )
    assert "coverage target: 85-95%" in text_out.getvalue()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "--sessions", "model.npz"], "give no ARTIFACT"),
        (["evaluate", "--sessions", "--folds", "1"], "--folds must be at least 2"),
        (["evaluate", "--sessions", "--data", "/nonexistent/folder"], "no AnnoMI data found"),
        (["evaluate"], "needs an ARTIFACT and --data CSV"),
    ],
)
def test_evaluate_sessions_bad_input(argv, message):
    out, err = io.StringIO(), io.StringIO()
    assert nlp_main(argv, stdout=out, stderr=err) == 2
    assert message in err.getvalue() and "Traceback" not in err.getvalue()


def test_session_figures_go_into_the_metadata_and_the_card(tmp_path):
    src = default_artifact()
    for suffix in (".npz", ".json"):
        shutil.copy(src.with_suffix(suffix), tmp_path / src.with_suffix(suffix).name)
    artifact = tmp_path / src.name
    metric = {
        "icc": 0.5,
        "mae": 1.0,
        "coverage": 0.9,
        "sessions_with_interval": 10,
        "mean_interval_width": 2.0,
        "sessions_rated": 3,
        "sessions_with_value": 12,
        "expert_icc": 0.85,
        "expert_mae": 0.5,
        "before_icc": 0.67,
        "before_mae": 0.71,
    }
    report = {
        "folds": 5,
        "seed": 0,
        "sessions": [{}] * 12,
        "metrics": {
            "reflection_to_question": metric,
            "percent_complex_reflections": metric,
            "percent_open_questions": metric,
            "change_talk_share": metric,
            "sustain_recall": {"sessions": 9, "mean": 0.4, "median": 0.33, "zero": 2},
        },
    }
    card = store_session_report(artifact, report)
    meta = json.loads(artifact.with_suffix(".json").read_text())
    assert meta["session_cv"]["transcripts"] == 12
    text = card.read_text()
    assert "| reflection : question | 0.67 / 0.71 | 0.50 / 1.00 | 0.85 / 0.5 | 90% |" in text
    assert "mean 0.40, median 0.33" in text


def test_widening_is_the_conformal_quantile_of_the_needed_stretch():
    q = (40.0, 50.0, 60.0)
    assert needed_factor("percent_open_questions", q, 70.0) == pytest.approx(2.0)
    assert needed_factor("percent_open_questions", q, 45.0) == pytest.approx(0.5)
    assert widen("percent_open_questions", q, 2.0) == (30.0, 70.0)
    assert widen("percent_open_questions", q, 10.0) == (0.0, 100.0)  # clipped to the scale
    # a point interval is widened from the minimum half-width, not from zero
    assert widen("reflection_to_question", (1.0, 1.0, 1.0), 3.0) == pytest.approx((0.7, 1.3))
    # 19 sessions need at most 1.0, one needs 5.0: the 90% quantile of 20 is the 19th value
    rows = [("percent_open_questions", q, 55.0)] * 19 + [("percent_open_questions", q, 100.0)]
    assert calibrate_widening(rows) == {"percent_open_questions": 1.0}
    rows = [("percent_open_questions", q, 50.0 + 1.5 * i) for i in range(20)]
    factor = calibrate_widening(rows)["percent_open_questions"]
    covered = sum(widen("percent_open_questions", q, factor)[1] >= g for _, _, g in rows)
    assert covered / len(rows) >= 0.9


def test_shipped_artifact_carries_the_measured_widening():
    widening = widening_from_metadata(load_model().metadata_)
    assert set(widening) == {
        "reflection_to_question",
        "percent_complex_reflections",
        "percent_open_questions",
        "change_talk_share",
    }
    assert all(v >= 1.0 for v in widening.values())


@pytest.mark.slow
def test_train_with_extra_rows_uses_them_in_training_only(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(TINY, data / "AnnoMI-full.csv")
    extra = tmp_path / "corrections.csv"
    cols = [
        "transcript_id",
        "video_url",
        "utterance_id",
        "interlocutor",
        "utterance_text",
        "main_therapist_behaviour",
        "reflection_subtype",
        "question_subtype",
        "client_talk_type",
    ]
    with extra.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerow(
            {
                "transcript_id": "c1",
                "video_url": "alliance:c1",
                "utterance_id": 0,
                "interlocutor": "therapist",
                "utterance_text": "What brings you in today?",
                "main_therapist_behaviour": "question",
                "question_subtype": "open",
            }
        )
        w.writerow(
            {
                "transcript_id": "c1",
                "video_url": "alliance:c1",
                "utterance_id": 1,
                "interlocutor": "client",
                "utterance_text": "",
                "client_talk_type": "sustain",
            }
        )
    out, err = io.StringIO(), io.StringIO()
    code = nlp_main(
        [
            "train",
            "--data",
            str(data),
            "--out",
            str(tmp_path / "model"),
            "--folds",
            "2",
            "--version",
            "0.0.1",
            "--extra",
            str(extra),
        ],
        stdout=out,
        stderr=err,
    )
    assert code == 0, err.getvalue()
    assert (
        "corrections.csv: 1 labelled rows with text; 1 labelled rows without text left out"
        in out.getvalue()
    )
    meta = json.loads((tmp_path / "model" / "model-0.0.1.json").read_text())
    assert meta["training_data"]["extra_rows"] == 1
    # the CV figures are on the AnnoMI transcripts only
    assert sum(meta["cv"]["fold_sizes"]) == len(load_annomi_csv(TINY))


@pytest.mark.slow
def test_evaluate_corrections_scores_held_out_sessions_with_and_without_them(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(TINY, data / "AnnoMI-full.csv")
    extra = tmp_path / "corrections.csv"
    cols = [
        "transcript_id",
        "video_url",
        "utterance_id",
        "interlocutor",
        "utterance_text",
        "main_therapist_behaviour",
        "reflection_subtype",
        "question_subtype",
        "client_talk_type",
    ]
    with extra.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for t in ("c1", "c2", "c3"):
            w.writerow(
                {
                    "transcript_id": t,
                    "video_url": f"alliance:{t}",
                    "utterance_id": 0,
                    "interlocutor": "therapist",
                    "utterance_text": "How did the week go?",
                    "main_therapist_behaviour": "question",
                    "question_subtype": "open",
                }
            )
            w.writerow(
                {
                    "transcript_id": t,
                    "video_url": f"alliance:{t}",
                    "utterance_id": 1,
                    "interlocutor": "client",
                    "utterance_text": "I won't stop, it's fine.",
                    "client_talk_type": "sustain",
                }
            )
    out, err = io.StringIO(), io.StringIO()
    code = nlp_main(
        [
            "evaluate",
            "--corrections",
            str(extra),
            "--data",
            str(data),
            "--folds",
            "3",
            "--format",
            "json",
        ],
        stdout=out,
        stderr=err,
    )
    assert code == 0, err.getvalue()
    report = json.loads(out.getvalue())
    assert report["transcripts"] == 3 and report["folds"] == 3
    beh = report["heads"]["behaviour"]
    assert beh["labelled_turns"] == 3
    assert 0.0 <= beh["accuracy_without"] <= 1.0 and beh["helped"] == (
        beh["accuracy_with"] > beh["accuracy_without"]
    )
    one = tmp_path / "one.csv"
    one.write_text("\n".join(extra.read_text().splitlines()[:3]) + "\n")
    err = io.StringIO()
    assert (
        nlp_main(
            ["evaluate", "--corrections", str(one), "--data", str(data)],
            stdout=io.StringIO(),
            stderr=err,
        )
        == 2
    )
    assert "at least 2 transcripts" in err.getvalue()
