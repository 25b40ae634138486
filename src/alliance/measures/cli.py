"""``alliance score``: score PHQ-9 / GAD-7 answers without a database (researchers, audits).

    alliance score phq9 --answers 1,2,0,3,1,0,2,1,0 [--format text|json]
    alliance score gad7 --file answers.csv [--out result.csv]

Bad input exits 2 with one line naming the row and item, never a traceback. The lead wires
``score_main`` to the ``alliance`` command; it needs no Django.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from alliance.lib.cli import (
    EXIT_OK,
    OneLineArgumentParser,
    UsageError,
    read_text_file,
    run_cli,
)
from alliance.measures.registry import UnknownInstrumentError, instrument_ids, load
from alliance.measures.scoring import ScoringError, score

if TYPE_CHECKING:
    pass


def _parser(stdout: IO[str], stderr: IO[str]) -> OneLineArgumentParser:
    p = OneLineArgumentParser(
        prog="alliance score",
        description="Score questionnaire answers (no database needed).",
        stdout=stdout,
        stderr=stderr,
    )
    p.add_argument("instrument", help="instrument id: " + ", ".join(instrument_ids()))
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--answers", help="comma-separated answers in item order; leave one empty for missing"
    )
    source.add_argument("--file", help="CSV, one row per administration, columns item1..itemN")
    p.add_argument("--out", help="write the scored CSV here instead of stdout (with --file)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output of --answers")
    return p


def _text(result: Any, instrument: Any) -> str:
    lines = []
    total = "no total" if result.total is None else f"{result.total:g}"
    band = f" ({result.severity})" if result.severity else ""
    lines.append(f"{instrument.short_name}: {total}{band}")
    if result.item9_positive:
        lines.append("Item 9 positive: follow the safety pathway, whatever the total.")
    lines.append("flags: " + (", ".join(result.flags) if result.flags else "none"))
    for message in result.messages:
        lines.append(f"- {message}")
    if not instrument.validated:
        lines.append(f"Note: {instrument.note}")
    return "\n".join(lines) + "\n"


def _score_main(argv: list[str], stdout: IO[str], stderr: IO[str]) -> int:
    args = _parser(stdout, stderr).parse_args(argv)
    try:
        instrument = load(args.instrument)
    except UnknownInstrumentError as exc:
        raise UsageError(str(exc)) from None
    if args.out and not args.file:
        raise UsageError("--out needs --file")
    if args.answers is not None:
        values = [v.strip() for v in args.answers.split(",")]
        try:
            result = score(instrument, values)
        except ScoringError as exc:
            raise UsageError(str(exc)) from None
        if args.format == "json":
            stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
        else:
            stdout.write(_text(result, instrument))
        return EXIT_OK

    text = read_text_file(args.file)
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    if not columns:
        raise UsageError(
            f"{args.file}: empty file, expected a header with item1..item{len(instrument.scored_items)}"
        )
    item_ids = [i.id for i in instrument.scored_items]
    missing_columns = [c for c in item_ids if c not in columns]
    if missing_columns:
        raise UsageError(f"{args.file}: missing column(s) {', '.join(missing_columns)}")
    added = ["total", "severity", "flags"] + (["item9_positive"] if instrument.safety else [])
    clash = [c for c in added if c in columns]
    if clash:
        raise UsageError(
            f"{args.file}: column(s) {', '.join(clash)} would be overwritten; rename them"
        )
    known_extra = {i.id for i in instrument.items if not i.scored}
    rows_out: list[dict[str, Any]] = []
    for line, raw in enumerate(reader, start=2):
        if None in raw:
            raise UsageError(f"{args.file}: row {line}: more values than columns")
        row = {(k or "").strip(): v for k, v in raw.items()}
        answers = {i: row.get(i) for i in item_ids}
        answers.update({k: row[k] for k in known_extra if k in row})
        duration = None
        if row.get("duration_seconds", "").strip():
            try:
                duration = float(row["duration_seconds"])
            except ValueError:
                raise UsageError(
                    f"{args.file}: row {line}: duration_seconds {row['duration_seconds']!r} is not a number"
                ) from None
        try:
            result = score(instrument, answers, duration_seconds=duration)
        except ScoringError as exc:
            item = f" ({exc.item_id})" if exc.item_id else ""
            raise UsageError(f"{args.file}: row {line}{item}: {exc}") from None
        out = dict(row)
        out["total"] = "" if result.total is None else result.total
        out["severity"] = result.severity or ""
        out["flags"] = ";".join(result.flags)
        if instrument.safety:
            out["item9_positive"] = (
                "" if result.item9_positive is None else str(result.item9_positive).lower()
            )
        rows_out.append(out)

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns + added, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows_out)
    # Everything is validated before anything is written, so a bad row never leaves half a file.
    if args.out:
        try:
            Path(args.out).write_text(buffer.getvalue(), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{args.out}: cannot write ({exc.__class__.__name__})") from None
        stderr.write(f"scored {len(rows_out)} row(s) into {args.out}\n")
    else:
        stdout.write(buffer.getvalue())
    return EXIT_OK


def score_main(argv: Sequence[str], stdout: IO[str], stderr: IO[str]) -> int:
    """Entry point for ``alliance score``; returns the exit status (0 ok, 2 bad input)."""
    return run_cli(_score_main, argv, stdout, stderr)
