"""``alliance ruptures``: rupture episodes from a CSV of session ratings, no database needed.

    alliance ruptures --file series.csv [--k 2] [--min-baseline 3] [--scale-min 0 --scale-max 6]
                      [--repair-window 3] [--cutoff X] [--drop X] [--format csv|json]

Columns: ``client_id,session,score`` plus optional ``reported_rupture``, ``concern`` and
``task_not_working`` (1/0, yes/no, true/false). Output: one row per episode
``client_id,start_session,lowest_session,end_session,status,rule``. Bad files exit 2 with one line
naming the row.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import IO, Any

from alliance.lib.cli import (
    EXIT_OK,
    OneLineArgumentParser,
    UsageError,
    read_text_file,
    run_cli,
)
from alliance.monitoring.ruptures import RuptureSettings, SessionRating, detect_ruptures

TRUE = {"1", "yes", "y", "true", "t"}
FALSE = {"0", "no", "n", "false", "f", ""}


def _parser(stdout: IO[str], stderr: IO[str]) -> OneLineArgumentParser:
    d = RuptureSettings()
    p = OneLineArgumentParser(
        prog="alliance ruptures",
        description="Find alliance rupture episodes in session ratings (a design-choice rule; see docs/measures.md).",
        stdout=stdout,
        stderr=stderr,
    )
    p.add_argument(
        "--file",
        required=True,
        help="CSV with client_id,session,score[,reported_rupture][,concern]",
    )
    p.add_argument(
        "--k", type=float, default=d.k, help="SDs below the client's baseline (2 strict, 1 lenient)"
    )
    p.add_argument(
        "--min-baseline", type=int, default=d.min_baseline, help="previous sessions needed"
    )
    p.add_argument("--baseline-window", type=int, default=d.baseline_window)
    p.add_argument("--scale-min", type=float, default=d.scale_min)
    p.add_argument("--scale-max", type=float, default=d.scale_max)
    p.add_argument(
        "--repair-window", type=int, default=d.repair_window, help="sessions allowed for repair"
    )
    p.add_argument("--cutoff", type=float, default=None, help="also flag scores below this value")
    p.add_argument(
        "--drop",
        type=float,
        default=None,
        help="also flag a fall of this much from the previous session",
    )
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    return p


def _flag(value: str | None, column: str, where: str) -> bool:
    v = (value or "").strip().lower()
    if v in TRUE:
        return True
    if v in FALSE:
        return False
    raise UsageError(f"{where}: {column} {value!r} is not yes/no (1/0, true/false)")


def read_series(path: str, settings: RuptureSettings) -> dict[str, list[SessionRating]]:
    """Ratings per client, validated; UsageError names the row (file line number)."""
    text = read_text_file(path)
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in ("client_id", "session", "score") if c not in columns]
    if missing:
        raise UsageError(
            f"{path}: missing column(s) {', '.join(missing)} (need client_id,session,score)"
        )
    series: dict[str, list[SessionRating]] = {}
    seen: dict[tuple[str, int], int] = {}
    for line, raw in enumerate(reader, start=2):
        if None in raw:
            raise UsageError(f"{path}: row {line}: more values than columns")
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        client = row["client_id"]
        where = f"{path}: row {line}"
        if not client:
            raise UsageError(f"{where}: empty client_id")
        try:
            session = int(row["session"])
        except ValueError:
            raise UsageError(f"{where}: session {row['session']!r} is not a whole number") from None
        if (client, session) in seen:
            raise UsageError(
                f"{where}: session {session} for client {client} already appears in row {seen[(client, session)]}"
            )
        seen[(client, session)] = line
        score: float | None
        if row["score"] == "":
            score = None  # a session without a rating; reports can still signal
        else:
            try:
                score = float(row["score"])
            except ValueError:
                raise UsageError(f"{where}: score {row['score']!r} is not a number") from None
            if math.isnan(score) or not settings.scale_min <= score <= settings.scale_max:
                raise UsageError(
                    f"{where}: score {row['score']} is outside the scale "
                    f"{settings.scale_min:g}-{settings.scale_max:g} (set --scale-min/--scale-max)"
                )
        reported = _flag(row.get("reported_rupture"), "reported_rupture", where)
        concern = _flag(row.get("concern"), "concern", where)
        task = _flag(row.get("task_not_working"), "task_not_working", where)
        series.setdefault(client, []).append(SessionRating(session, score, reported, concern, task))
    if not series:
        raise UsageError(f"{path}: no rows")
    return series


def _ruptures_main(argv: list[str], stdout: IO[str], stderr: IO[str]) -> int:
    args = _parser(stdout, stderr).parse_args(argv)
    try:
        settings = RuptureSettings(
            k=args.k,
            min_baseline=args.min_baseline,
            baseline_window=max(args.baseline_window, args.min_baseline),
            scale_min=args.scale_min,
            scale_max=args.scale_max,
            repair_window=args.repair_window,
            cutoff=args.cutoff,
            drop_from_previous=args.drop,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    series = read_series(args.file, settings)
    reports: list[dict[str, Any]] = []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["client_id", "start_session", "lowest_session", "end_session", "status", "rule"]
    )
    for client, ratings in series.items():
        report = detect_ruptures(ratings, settings)
        for e in report.episodes:
            writer.writerow(
                [
                    client,
                    e.start_session,
                    e.lowest_session,
                    "" if e.end_session is None else e.end_session,
                    e.status,
                    e.rule,
                ]
            )
        if report.low_information and args.format == "csv":
            stderr.write(f"note: client {client}: {report.low_information_reason}\n")
        entry = {"client_id": client, **report.to_dict()}
        entry.pop("settings")
        reports.append(entry)
    if args.format == "json":
        stdout.write(
            json.dumps({"settings": settings.to_dict(), "clients": reports}, indent=2) + "\n"
        )
    else:
        stdout.write(out.getvalue())
    return EXIT_OK


def ruptures_main(argv: Sequence[str], stdout: IO[str], stderr: IO[str]) -> int:
    """Entry point for ``alliance ruptures``; returns the exit status (0 ok, 2 bad input)."""
    return run_cli(_ruptures_main, argv, stdout, stderr)
