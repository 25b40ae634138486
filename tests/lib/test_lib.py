"""alliance.lib: pure Python, no database and no Django settings needed."""

from __future__ import annotations

import io

import pytest

from alliance.lib.charts import LineChart, Series, gaps_between, polyline, svg_path
from alliance.lib.cli import (
    EXIT_BAD_INPUT,
    OneLineArgumentParser,
    UsageError,
    read_text_file,
    run_cli,
)
from alliance.lib.text import fmt_number, latin
from alliance.lib.timezones import first_zone, is_valid_zone, zone_or_none


def test_fmt_number_rounds_drops_trailing_zeros_and_marks_missing():
    assert fmt_number(2.0) == "2"
    assert fmt_number(1.236) == "1.24"
    assert fmt_number(None) == "–"
    assert fmt_number(None, none="n/a") == "n/a"
    assert fmt_number(1.236, places=None) == "1.236"
    assert fmt_number(0.5, places=0) == "0"  # round half to even, as before


def test_latin_spells_out_symbols_outside_winansi():
    assert latin("PHQ-9 ≥ 10, GAD-7 ≤ 4, −3") == "PHQ-9 >= 10, GAD-7 <= 4, -3"
    assert latin("plain") == "plain"


def test_polyline_and_path():
    assert polyline([(1, 2), (3.5, 4)]) == "1,2 3.5,4"
    assert polyline([(1, 2), (3.25, 4)], places=1) == "1.0,2.0 3.2,4.0"
    assert svg_path([(1, 2), (3, 4)]) == "M1,2 L3,4"
    assert svg_path([(1, 2), None, (5, 6), (7, 8)]) == "M1,2 M5,6 L7,8"
    assert svg_path([]) == ""


def test_gaps_between_breaks_the_line_where_the_index_skips():
    points = [(0, (1.0, 1.0)), (1, (2.0, 2.0)), (3, (4.0, 4.0))]
    assert svg_path(gaps_between(points)) == "M1.0,1.0 L2.0,2.0 M4.0,4.0"


def test_line_chart_skips_missing_values_and_clamps_to_the_axis():
    chart = LineChart(
        title="t",
        x_labels=["a", "b", "c"],
        series=[Series("s", [1.0, None, 9.0])],
        y_min=0,
        y_max=5,
    ).render()
    (series,) = chart["series"]
    assert [p["l"] for p in series["points"]] == ["a", "c"]
    assert series["points"][1]["y"] == 16  # 9 clamps to the top of the plot (y_max)
    assert series["polyline"].count(",") == 2


def test_zone_helpers():
    assert str(zone_or_none("Europe/Paris")) == "Europe/Paris"
    assert zone_or_none("Mars/Olympus") is None
    assert zone_or_none("") is None
    assert zone_or_none("../etc/passwd") is None
    assert is_valid_zone("UTC") and not is_valid_zone(None)
    assert str(first_zone(None, "nope", "Asia/Tokyo", default="UTC")) == "Asia/Tokyo"
    assert str(first_zone("nope", default="UTC")) == "UTC"


def _main(argv, stdout, stderr):
    parser = OneLineArgumentParser(prog="demo", stdout=stdout, stderr=stderr)
    parser.add_argument("--n", type=int, required=True)
    args = parser.parse_args(argv)
    stdout.write(f"n={args.n}\n")
    return 0


def test_run_cli_turns_bad_input_into_one_line_and_exit_2():
    out, err = io.StringIO(), io.StringIO()
    assert run_cli(_main, ["--n", "x"], out, err) == EXIT_BAD_INPUT
    assert err.getvalue().count("\n") == 1 and err.getvalue().startswith("error: demo:")
    out, err = io.StringIO(), io.StringIO()
    assert run_cli(_main, ["--n", "3"], out, err) == 0
    assert out.getvalue() == "n=3\n"
    out, err = io.StringIO(), io.StringIO()
    assert run_cli(_main, ["--help"], out, err) == 0
    assert "usage: demo" in out.getvalue() and err.getvalue() == ""


def test_read_text_file(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("\ufeffx,y\n".encode())
    assert read_text_file(str(path)) == "x,y\n"  # BOM dropped
    with pytest.raises(UsageError, match="no such file"):
        read_text_file(str(tmp_path / "missing.csv"))
    path.write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(UsageError, match="cannot read"):
        read_text_file(str(path))
