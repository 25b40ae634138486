import csv
import io
import json

import pytest

from alliance.measures.cli import score_main
from alliance.monitoring.cli import ruptures_main


def run(main, *argv):
    out, err = io.StringIO(), io.StringIO()
    rc = main(list(argv), out, err)
    return rc, out.getvalue(), err.getvalue()


# ----------------------------------------------------------------------------- alliance score


def test_score_answers_json_contract():
    rc, out, err = run(score_main, "phq9", "--answers", "1,2,0,3,1,0,2,1,0", "--format", "json")
    assert rc == 0 and err == ""
    data = json.loads(out)
    assert {k: data[k] for k in ("instrument", "total", "severity", "item9_positive", "flags")} == {
        "instrument": "phq9",
        "total": 10,
        "severity": "moderate",
        "item9_positive": False,
        "flags": ["above_cutoff"],
    }


def test_score_answers_text_shows_safety_pathway():
    rc, out, _ = run(score_main, "phq9", "--answers", "0,0,0,0,0,0,0,0,2")
    assert rc == 0
    assert out.splitlines()[:3] == [
        "PHQ-9: 2 (minimal)",
        "Item 9 positive: follow the safety pathway, whatever the total.",
        "flags: item9_positive",
    ]


def test_score_gad7_with_one_missing_answer():
    rc, out, _ = run(score_main, "gad7", "--answers", "3,3,3,,0,0,0", "--format", "json")
    data = json.loads(out)
    assert rc == 0 and data["total"] == 11 and data["flags"] == ["prorated", "above_cutoff"]
    assert data["item9_positive"] is None


@pytest.mark.parametrize(
    "argv,message",
    [
        (
            ["phq9", "--answers", "1,2,0,4,1,0,2,1,0"],
            "error: PHQ-9 item 4: 4 is out of range (allowed 0-3)\n",
        ),
        (["phq9", "--answers", "1,2,0"], "error: PHQ-9 needs 9 answers, got 3\n"),
        (
            ["gad7", "--answers", "1,2,0,a,1,0,2"],
            "error: GAD-7 item 4: 'a' is not a number (allowed 0-3)\n",
        ),
        (
            ["phq7", "--answers", "1"],
            "error: unknown instrument 'phq7'; known: gad7, phq9, sac_client, sac_therapist, sai, srs, wai_sr\n",
        ),
        (["phq9"], "error: alliance score: one of the arguments --answers --file is required\n"),
        (["phq9", "--answers", "1", "--out", "x.csv"], "error: --out needs --file\n"),
    ],
)
def test_score_bad_answers_exit_2_with_one_line(argv, message):
    rc, out, err = run(score_main, *argv)
    assert (rc, out, err) == (2, "", message)


HEADER = "client,date,item1,item2,item3,item4,item5,item6,item7,item8,item9\n"


def test_score_file_appends_columns_and_passes_others_through(tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text(
        HEADER
        + "c1,2024-01-01,1,2,0,3,1,0,2,1,0\n"
        + "c2,2024-01-02,3,3,3,3,3,3,3,3,1\n"
        + "c3,2024-01-03,1,,0,3,1,0,2,1,0\n"
        + "c4,2024-01-04,1,,,3,1,0,2,1,0\n"
    )
    rc, out, err = run(score_main, "phq9", "--file", str(path))
    assert rc == 0 and err == ""
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == [
        "client",
        "date",
        *[f"item{n}" for n in range(1, 10)],
        "total",
        "severity",
        "flags",
        "item9_positive",
    ]
    assert [
        (r["client"], r["total"], r["severity"], r["flags"], r["item9_positive"]) for r in rows
    ] == [
        ("c1", "10", "moderate", "above_cutoff", "false"),
        ("c2", "25", "severe", "above_cutoff;item9_positive", "true"),
        ("c3", "9", "mild", "prorated", "false"),  # 8 x 9 / 8
        ("c4", "", "", "incomplete", "false"),
    ]


def test_score_file_with_out_and_durations(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(
        "id,duration_seconds,item1,item2,item3,item4,item5,item6,item7\nx,3,1,1,1,1,1,1,1\n"
    )
    dest = tmp_path / "out.csv"
    rc, out, err = run(score_main, "gad7", "--file", str(src), "--out", str(dest))
    assert rc == 0 and out == "" and err == f"scored 1 row(s) into {dest}\n"
    row = next(csv.DictReader(dest.open()))
    assert (row["total"], row["severity"], row["flags"]) == ("7", "mild", "too_fast")
    assert "item9_positive" not in row  # GAD-7 has no item 9


@pytest.mark.parametrize(
    "body,message",
    [
        (
            "c1,d,1,2,0,3,1,0,2,1,0\nc2,d,1,2,0,3,9,0,2,1,0\n",
            "row 3 (item5): PHQ-9 item 5: 9 is out of range (allowed 0-3)",
        ),
        (
            "c1,d,1,2,0,3,1,0,2,1,x\n",
            "row 2 (item9): PHQ-9 item 9: 'x' is not a number (allowed 0-3)",
        ),
        ("c1,d,1,2,0,3,1,0,2,1,0,7\n", "row 2: more values than columns"),
    ],
)
def test_score_bad_file_rows_name_row_and_item(tmp_path, body, message):
    path = tmp_path / "bad.csv"
    out_path = tmp_path / "never.csv"
    path.write_text(HEADER + body)
    rc, out, err = run(score_main, "phq9", "--file", str(path), "--out", str(out_path))
    assert rc == 2 and out == ""
    assert err == f"error: {path}: {message}\n"
    assert not out_path.exists()  # nothing half-written


def test_score_file_missing_column_and_missing_file(tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("item1,item2,item3,item4,item5,item6,item7,item8\n1,1,1,1,1,1,1,1\n")
    assert run(score_main, "phq9", "--file", str(path)) == (
        2,
        "",
        f"error: {path}: missing column(s) item9\n",
    )
    missing = tmp_path / "nope.csv"
    assert run(score_main, "phq9", "--file", str(missing)) == (
        2,
        "",
        f"error: {missing}: no such file\n",
    )


# ----------------------------------------------------------------------------- alliance ruptures

SERIES = """client_id,session,score,reported_rupture
a,1,5,
a,2,5,
a,3,6,
a,4,5,
a,5,2,
a,6,4,
a,7,5,
b,1,5,0
b,2,5,0
b,3,5,0
b,4,5,0
b,5,2,no
b,6,2,
b,7,2,
b,8,2,
c,1,6,
c,2,6,
c,3,6,yes
c,4,6,
c,5,6,
"""


def test_ruptures_csv_output(tmp_path):
    path = tmp_path / "series.csv"
    path.write_text(SERIES)
    rc, out, err = run(ruptures_main, "--file", str(path))
    assert rc == 0
    assert out.splitlines() == [
        "client_id,start_session,lowest_session,end_session,status,rule",
        "a,5,5,7,repaired,k_sd",
        "b,5,5,8,unrepaired,k_sd",
        "c,3,3,4,repaired,reported",
    ]
    assert err.startswith("note: client c: 5 of 5 ratings (100%) are at the scale maximum 6")


def test_ruptures_settings_change_the_result(tmp_path):
    path = tmp_path / "series.csv"
    path.write_text(SERIES)
    rc, out, _ = run(ruptures_main, "--file", str(path), "--repair-window", "5", "--format", "json")
    data = json.loads(out)
    assert rc == 0 and data["settings"]["repair_window"] == 5
    b = next(c for c in data["clients"] if c["client_id"] == "b")
    assert b["episodes"][0]["status"] == "open"  # session 8 is inside a 5-session window
    c = next(c for c in data["clients"] if c["client_id"] == "c")
    assert c["low_information"] is True
    # SRS-style scale 0-40 with its cut-off of 36
    srs = tmp_path / "srs.csv"
    srs.write_text("client_id,session,score\nz,1,38\nz,2,39\nz,3,35\nz,4,38\n")
    rc, out, _ = run(ruptures_main, "--file", str(srs), "--scale-max", "40", "--cutoff", "36")
    assert out.splitlines()[1:] == ["z,3,3,4,repaired,cutoff"]


def test_ruptures_optional_signal_columns(tmp_path):
    path = tmp_path / "signals.csv"
    path.write_text(
        "client_id,session,score,concern,task_not_working\n"
        "d,1,5,,\nd,2,5,,\nd,3,5,no,yes\nd,4,5,,\ne,1,5,yes,\ne,2,5,,\n"
    )
    rc, out, _ = run(ruptures_main, "--file", str(path))
    assert rc == 0 and out.splitlines()[1:] == [
        "d,3,3,4,repaired,task_not_working",
        "e,1,1,2,repaired,concern",
    ]


@pytest.mark.parametrize(
    "body,message",
    [
        ("client_id,session\na,1\n", "missing column(s) score (need client_id,session,score)"),
        ("client_id,session,score\na,1,5\na,2,high\n", "row 3: score 'high' is not a number"),
        (
            "client_id,session,score\na,1,5\na,1,4\n",
            "row 3: session 1 for client a already appears in row 2",
        ),
        (
            "client_id,session,score\na,1,5\na,2,7\n",
            "row 3: score 7 is outside the scale 0-6 (set --scale-min/--scale-max)",
        ),
        ("client_id,session,score\na,one,5\n", "row 2: session 'one' is not a whole number"),
        (
            "client_id,session,score,reported_rupture\na,1,5,maybe\n",
            "row 2: reported_rupture 'maybe' is not yes/no (1/0, true/false)",
        ),
        ("client_id,session,score\n", "no rows"),
    ],
)
def test_ruptures_bad_files_exit_2_naming_the_row(tmp_path, body, message):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    assert run(ruptures_main, "--file", str(path)) == (2, "", f"error: {path}: {message}\n")


def test_ruptures_bad_options(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(SERIES)
    rc, out, err = run(ruptures_main, "--file", str(path), "--scale-min", "6", "--scale-max", "6")
    assert (rc, out, err) == (2, "", "error: scale_max must be above scale_min\n")
    rc, _, err = run(ruptures_main, "--file", str(path), "--k", "two")
    assert rc == 2 and err == "error: alliance ruptures: argument --k: invalid float value: 'two'\n"
