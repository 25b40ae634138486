"""The command-line contract: JSON shape of `alliance analyze`, exit code 2 on bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from alliance.nlp import analyze_text
from alliance.nlp.cli import analyze_main, nlp_main
from alliance.nlp.model import default_artifact

BEHAVIOURS = {"reflection", "question", "therapist_input", "other", None}
TALK = {"change", "neutral", "sustain", None}
UTTERANCE_KEYS = {
    "index",
    "speaker",
    "text",
    "start",
    "end",
    "behaviour",
    "reflection_type",
    "question_type",
    "input_type",
    "talk_type",
    "markers",
    "confidence",
}


def run(main, argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_analyze_json_contract(fixtures):
    code, out, err = run(analyze_main, [str(fixtures / "zoom.vtt"), "--format", "json"])
    assert code == 0, err
    data = json.loads(out)
    assert isinstance(data["model_version"], str) and data["model_version"]
    assert "not an evaluation" in data["disclaimer"] and "experimental" in data["disclaimer"]
    assert isinstance(data["summary"], dict)
    utts = data["utterances"]
    assert [u["index"] for u in utts] == [0, 1, 2, 3]
    for u in utts:
        assert set(u) >= UTTERANCE_KEYS
        assert u["speaker"] in ("therapist", "client")
        assert u["behaviour"] in BEHAVIOURS and u["talk_type"] in TALK
        assert u["reflection_type"] in ("simple", "complex", None)
        assert u["question_type"] in ("open", "closed", None)
        assert u["input_type"] in ("information", "advice", "negotiation", "options", None)
        assert isinstance(u["markers"], list) and isinstance(u["confidence"], dict)
        if u["speaker"] == "therapist":
            assert u["behaviour"] is not None and u["talk_type"] is None
            assert (u["reflection_type"] is not None) == (u["behaviour"] == "reflection")
            assert (u["question_type"] is not None) == (u["behaviour"] == "question")
        else:
            assert u["behaviour"] is None and u["talk_type"] is not None
        assert all(0.0 <= p <= 1.0 for p in u["confidence"].values())
    assert utts[1]["start"] == 5.0 and utts[1]["end"] == 12.0
    assert data["summary"]["speakers"] == {"Dr. Maya Lee": "therapist", "Sam Ortiz": "client"}
    # an obvious open question and an obvious complex-ish reflection
    assert utts[0]["behaviour"] == "question"


def test_explicit_therapist_flips_roles(fixtures):
    code, out, _ = run(
        analyze_main, [str(fixtures / "zoom.vtt"), "--format", "json", "--therapist", "Sam Ortiz"]
    )
    assert code == 0
    assert [u["speaker"] for u in json.loads(out)["utterances"]] == [
        "client",
        "therapist",
        "client",
        "therapist",
    ]


def test_text_report(fixtures):
    code, out, _ = run(analyze_main, [str(fixtures / "teams.vtt")])
    assert code == 0
    assert "reflection : question" in out and "open questions" in out and "Transcript" in out
    assert "not an evaluation" in out


def test_progress_bar_on_long_files(tmp_path):
    lines = []
    for _i in range(160):
        lines.append("Therapist: What has been on your mind this week?")
        lines.append("Client: Mostly work, and whether I can keep going like this.")
    path = tmp_path / "long.txt"
    path.write_text("\n".join(lines))
    code, out, err = run(analyze_main, [str(path)])
    assert code == 0
    assert "analysing [" in err and "320/320" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bad_timestamp.vtt"], "line 12: timestamp '00:61:00.000' is not valid"),
        (["image.txt"], "binary data"),
        (["missing.vtt"], "no such file"),
        (["zoom.vtt", "--therapist", "Nobody"], "not in this transcript"),
        (["zoom.vtt", "--format", "xml"], "invalid choice"),
    ],
)
def test_analyze_bad_input_exits_2_with_one_line(fixtures, argv, message):
    argv = [str(fixtures / argv[0])] + argv[1:]
    code, out, err = run(analyze_main, argv)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert out == ""


def test_analyze_text_api_matches_the_cli(fixtures):
    text = (fixtures / "session.srt").read_text()
    data = analyze_text(text, "session.srt")
    json.dumps(data)  # JSON-able
    code, out, _ = run(analyze_main, [str(fixtures / "session.srt"), "--format", "json"])
    assert json.loads(out)["utterances"] == data["utterances"]


def test_evaluate_on_an_annomi_format_csv(fixtures):
    code, out, err = run(
        nlp_main, ["evaluate", str(default_artifact()), "--data", str(fixtures / "tiny_annomi.csv")]
    )
    assert code == 0, err
    assert "behaviour: macro-F1" in out and "talk_type: macro-F1" in out and "true \\ pred" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "nope.npz", "--data", "tiny_annomi.csv"], "model artifact not found"),
        (["evaluate", "ARTIFACT", "--data", "zoom.vtt"], "not an AnnoMI-format CSV"),
        (["train", "--data", "/nonexistent/place"], "no AnnoMI data found"),
        (["train", "--folds", "1"], "--folds must be at least 2"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_nlp_bad_input_exits_2(fixtures, argv, message):
    argv = [
        str(default_artifact())
        if a == "ARTIFACT"
        else (str(fixtures / a) if a.endswith((".csv", ".vtt")) else a)
        for a in argv
    ]
    code, _, err = run(nlp_main, argv)
    assert code == 2
    assert message in err and err.count("\n") == 1


@pytest.mark.slow
def test_analysis_runs_on_numpy_alone(fixtures):
    """The runtime install has no scikit-learn, scipy, torch or Django: analysis must not import them."""

    src = Path(__file__).resolve().parents[2] / "src"
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from alliance.nlp import analyze_text;"
        "analyze_text(open(sys.argv[2]).read(), 'zoom.vtt');"
        "bad = [m for m in ('sklearn', 'scipy', 'torch', 'django') if m in sys.modules];"
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(src), str(fixtures / "zoom.vtt")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
