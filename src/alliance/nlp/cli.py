"""Command-line entry points, Django-free; the ``alliance`` command wires them up.

* ``analyze_main``: ``alliance analyze FILE [--therapist NAME] [--format text|json]``
* ``nlp_main``: ``alliance nlp train [--data PATH] [--out DIR] [--folds 5] [--seed 0]`` and
  ``alliance nlp evaluate ARTIFACT --data CSV``

Bad input ends with exit code 2 and a one-line message on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import numpy as np

from alliance.lib.cli import UsageError

from . import training
from .analyze import analyze_transcript
from .data import DataError, find_data_dir, load_annomi_csv, training_csv
from .evaluation import format_confusion
from .model import ARTIFACT_DIR, ArtifactError, load_model
from .sessions import evaluate_sessions, format_sessions
from .transcripts import TranscriptError, read_transcript

if TYPE_CHECKING:
    from _typeshed import SupportsWrite


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so callers control output and exit codes."""

    def __init__(self, *args: Any, out: TextIO, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._out = out

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._out.write(message)
        raise _Exit(status)

    def print_help(self, file: SupportsWrite[str] | None = None) -> None:
        super().print_help(self._out)


def _fail(stderr: TextIO, prog: str, message: str) -> int:
    stderr.write(f"{prog}: error: {' '.join(str(message).split())}\n")
    return 2


# ------------------------------------------------------------------------------------------
# analyze

PROGRESS_MIN_TURNS = 300


def _progress_bar(stderr: TextIO) -> Any:
    def show(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        stderr.write(f"\ranalysing [{'#' * filled}{'.' * (width - filled)}] {done}/{total} turns")
        if done >= total:
            stderr.write("\n")
        stderr.flush()

    return show


def analyze_main(argv: list[str], stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr) -> int:
    prog = "alliance analyze"
    parser = _Parser(
        prog=prog, out=stdout, description="Feedback on a session transcript (VTT, SRT or text)."
    )
    parser.add_argument(
        "file", help="transcript file: .vtt (Zoom/Teams), .srt or .txt with 'Speaker: text' lines"
    )
    parser.add_argument(
        "--therapist", help="the therapist's speaker name as written in the file (else guessed)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--model", help="model artifact (.npz); default: the one shipped with Alliance"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        return _fail(stderr, prog, str(exc))
    except _Exit as exc:
        return exc.code

    try:
        transcript = read_transcript(args.file)
    except TranscriptError as exc:
        return _fail(
            stderr, prog, f"{args.file}: {exc}" if not str(exc).startswith(args.file) else str(exc)
        )
    try:
        model = load_model(args.model)
    except ArtifactError as exc:
        return _fail(stderr, prog, str(exc))
    progress = None
    if not args.no_progress and len(transcript.turns) >= PROGRESS_MIN_TURNS:
        progress = _progress_bar(stderr)
    try:
        result = analyze_transcript(
            transcript, therapist=args.therapist, model=model, progress=progress
        )
    except ValueError as exc:  # unknown --therapist name
        return _fail(stderr, prog, str(exc))
    if args.format == "json":
        json.dump(result, stdout, indent=1, ensure_ascii=False)
        stdout.write("\n")
    else:
        stdout.write(format_report(result, Path(args.file).name))
    return 0


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "        "
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _val(rating: dict[str, Any], unit: str = "") -> str:
    reason = rating.get("reason")
    if rating["value"] is None:
        return f"n/a ({reason})" if reason else "n/a"
    ratio = unit == ":1"
    value = f"{rating['value']:.2f}:1" if ratio else f"{rating['value']:.0f}%"
    interval = rating.get("interval")
    if interval:
        value += (
            f", 90% interval {interval[0]:.2f}-{interval[1]:.2f}"
            if ratio
            else f", 90% interval {interval[0]:.0f}-{interval[1]:.0f}%"
        )
    level = rating["level"]
    if level == "uncertain" and reason:
        level = f"uncertain: {reason}"
    mark = ":1" if ratio else "%"
    return (
        f"{value} ({level}; fair {rating['fair']:g}{mark}, good {rating['good']:g}{mark}, "
        f"{rating['source']})"
    )


def format_report(result: dict[str, Any], name: str = "") -> str:
    s = result["summary"]
    c = s["counts"]
    share = s["talk_share"]
    lines = [
        f"Session feedback{' for ' + name if name else ''} (model {result['model_version']})",
        "",
        "Note: " + result["disclaimer"],
        "",
        "Speakers: "
        + ", ".join(f"{n} = {r}" for n, r in s["speakers"].items())
        + f" ({s['therapist_from']}; use --therapist NAME to change)",
        "",
        "Listening and questions",
    ]
    lines.append(f"  reflection : question    {_val(s['reflection_to_question'], ':1')}")
    lines.append(f"  complex reflections      {_val(s['percent_complex_reflections'])}")
    lines.append(f"  open questions           {_val(s['percent_open_questions'])}")
    lines.append(
        f"  reflections {c['reflections']} (simple {c['simple_reflections']}, complex {c['complex_reflections']}); "
        f"questions {c['questions']} (open {c['open_questions']}, closed {c['closed_questions']}); "
        f"giving information/advice {c['therapist_input']}"
    )
    lines.append(
        f"  summaries {c['summaries']}, validations {c['validations']}, normalising {c['normalising']}, "
        f"affirmations {c['affirmations']}   (experimental)"
    )
    lines.append(
        f"  judgmental {c['judgmental']}, directive {c['directive']}, repair moves {c['repair']}   (experimental)"
    )
    lines.append("")
    lines.append("Talk time")
    bw = share["by_words"]
    if bw is None:
        lines.append(f"  not available: {share.get('reason') or 'no client speech'}")
    else:
        lines.append(
            f"  by words: therapist {bw['therapist'] or 0:.0f}%, client {bw['client'] or 0:.0f}%"
        )
    if share["by_time"]:
        lines.append(
            f"  by time:  therapist {share['by_time']['therapist']:.0f}%, client {share['by_time']['client']:.0f}%"
        )
    lines.append("")
    cs = s["change_sustain"]
    lines.append("Client talk")
    share_ct = s.get("change_talk_share") or {}
    if "change_sustain" in (s.get("unavailable") or {}):
        lines.append(f"  not available: {s['unavailable']['change_sustain']}")
    else:
        ratio = "n/a (no sustain talk coded)" if cs["ratio"] is None else f"{cs['ratio']:.2f}:1"
        lines.append(
            f"  change {c['change_talk']}, sustain {c['sustain_talk']}, neutral {c['neutral_talk']}; "
            f"change : sustain {ratio}"
        )
        if share_ct.get("value") is not None:
            iv = share_ct.get("interval")
            lines.append(
                f"  change-talk share {share_ct['value']:.0f}%"
                + (f", 90% interval {iv[0]:.0f}-{iv[1]:.0f}%" if iv else "")
            )
        elif share_ct.get("reason"):
            lines.append(f"  change-talk share n/a ({share_ct['reason']})")
    lines.append("")
    lines.append("Possible rupture moments (experimental)")
    if not s["rupture_moments"]:
        lines.append("  none detected")
    for m in s["rupture_moments"]:
        lines.append(
            f'  turn {m["index"]} {_clock(m["start"]).strip()} {m["type"].replace("rupture_", "")}: "{m["cue"]}"'
        )
    lines += ["", "Transcript"]
    for u in result["utterances"]:
        code = u["behaviour"] or u["talk_type"] or ""
        sub = u["reflection_type"] or u["question_type"] or u["input_type"]
        if sub:
            code += "/" + sub
        marks = ",".join(m["type"] for m in u["markers"])
        who = "T" if u["speaker"] == "therapist" else "C"
        lines.append(
            f"  {u['index']:>4} {_clock(u['start'])} {who} [{code}{(' ' + marks) if marks else ''}] {u['text']}"
        )
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------
# nlp train / evaluate


def nlp_main(argv: list[str], stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr) -> int:
    prog = "alliance nlp"
    parser = _Parser(
        prog=prog, out=stdout, description="Train and evaluate the transcript classifiers."
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    tr = sub.add_parser(
        "train", out=stdout, help="grouped cross-validation, then write the artifact and model card"
    )
    tr.add_argument("--data", help="folder with AnnoMI-full.csv (default: ../shared/data)")
    tr.add_argument("--out", help="output folder (default: the package's artifacts folder)")
    tr.add_argument("--folds", type=int, default=5)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--version", help="artifact version (default: the package's model version)")
    tr.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="CSV",
        help="extra AnnoMI-format training rows (e.g. a clinic's corrections export); used in "
        "every training fold and the final fit, never as test data (repeatable)",
    )
    ev = sub.add_parser(
        "evaluate",
        out=stdout,
        help="score an artifact on an AnnoMI-format CSV, or (--sessions) session summaries in CV",
    )
    ev.add_argument("artifact", nargs="?", help="model-<version>.npz (not with --sessions)")
    ev.add_argument(
        "--data",
        help="AnnoMI-format CSV; with --sessions the folder with AnnoMI-full.csv "
        "(default: ../shared/data)",
    )
    ev.add_argument(
        "--sessions",
        action="store_true",
        help="transcript-grouped CV of the session summaries: interval coverage, ICC(2,1), MAE, "
        "sustain-talk recall per session (refits the models per fold; needs the train extra)",
    )
    ev.add_argument(
        "--corrections",
        metavar="CSV",
        help="a clinic's corrections export: do they help on its own held-out sessions? "
        "(refits per fold; needs the train extra)",
    )
    ev.add_argument("--folds", type=int, default=5, help="with --sessions or --corrections")
    ev.add_argument("--seed", type=int, default=0, help="with --sessions")
    ev.add_argument(
        "--card",
        help="with --sessions: store the figures in this artifact's metadata (.npz or .json) and "
        "rewrite its model card",
    )
    ev.add_argument("--format", choices=("text", "json"), default="text")
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        return _fail(stderr, prog, str(exc))
    except _Exit as exc:
        return exc.code

    if args.command == "train":
        if args.folds < 2:
            return _fail(stderr, prog, "--folds must be at least 2")
        # The data first: a wrong path is worth saying even before the extra is installed.
        try:
            data_dir = find_data_dir(args.data)
        except DataError as exc:
            return _fail(stderr, prog, str(exc))
        try:
            # Only probes that the optional train extra is installed.
            import sklearn  # noqa: F401, PLC0415
        except ImportError:
            return _fail(
                stderr, prog, "training needs the train extra: pip install 'alliance[train]'"
            )
        try:
            out = Path(args.out) if args.out else ARTIFACT_DIR
            training.train(
                data_dir,
                out,
                args.folds,
                args.seed,
                args.version or training.MODEL_VERSION,
                log=lambda m: (stdout.write(m + "\n"), stdout.flush()),
                extra=[Path(p) for p in args.extra],
            )
        except (DataError, ValueError, OSError) as exc:
            return _fail(stderr, prog, str(exc))
        return 0

    if args.sessions:
        return _evaluate_sessions(args, stdout, stderr, prog)
    if args.corrections:
        return _evaluate_corrections(args, stdout, stderr, prog)
    if not args.artifact or not args.data:
        return _fail(stderr, prog, "evaluate needs an ARTIFACT and --data CSV (or --sessions)")

    try:
        report = training.evaluate(args.artifact, args.data)
    except (DataError, ArtifactError) as exc:
        return _fail(stderr, prog, str(exc))
    if args.format == "json":
        json.dump(report, stdout, indent=1)
        stdout.write("\n")
        return 0

    stdout.write(
        f"model {report['model_version']} on {args.data} ({report['utterances']} utterances)\n"
    )
    for head, rep in report["heads"].items():
        stdout.write(f"\n{head}: macro-F1 {rep['macro_f1']:.3f}\n")
        for lab in rep["labels"]:
            stdout.write(
                f"  {lab:<16} F1 {rep['per_class_f1'][lab]:.3f}  (n={rep['support'][lab]})\n"
            )
        stdout.write(
            "  "
            + format_confusion(np.array(rep["confusion"]), rep["labels"]).replace("\n", "\n  ")
            + "\n"
        )
    return 0


def _cv_records(args: Any, stderr: TextIO, prog: str, flag: str) -> list[Any] | int:
    """The training records for a cross-validation flag, or the exit code of a clear refusal
    (too few folds, no data, scikit-learn missing)."""

    if args.folds < 2:
        return _fail(stderr, prog, "--folds must be at least 2")
    try:
        records = load_annomi_csv(training_csv(find_data_dir(args.data)))
    except DataError as exc:
        return _fail(stderr, prog, str(exc))
    try:
        # Only probes that the optional train extra is installed.
        import sklearn  # noqa: F401, PLC0415
    except ImportError:
        return _fail(stderr, prog, f"{flag} needs the train extra: pip install 'alliance[train]'")
    return records


def _evaluate_sessions(args: Any, stdout: TextIO, stderr: TextIO, prog: str) -> int:
    if args.artifact:
        return _fail(stderr, prog, "--sessions refits the models per fold: give no ARTIFACT")
    records = _cv_records(args, stderr, prog, "--sessions")
    if isinstance(records, int):
        return records

    log = (
        (lambda m: (stderr.write(m + "\n"), stderr.flush()))
        if args.format == "json"
        else (lambda m: (stdout.write(m + "\n"), stdout.flush()))
    )
    try:
        report = evaluate_sessions(records, args.folds, args.seed, log)
    except ValueError as exc:
        return _fail(stderr, prog, str(exc))
    if args.card:
        try:
            training.store_session_report(args.card, report)
        except (ArtifactError, OSError, ValueError) as exc:
            return _fail(stderr, prog, str(exc))
    if args.format == "json":
        json.dump(report, stdout, indent=1)
        stdout.write("\n")
    else:
        stdout.write(format_sessions(report))
    return 0


def _evaluate_corrections(args: Any, stdout: TextIO, stderr: TextIO, prog: str) -> int:
    records = _cv_records(args, stderr, prog, "--corrections")
    if isinstance(records, int):
        return records

    try:
        extra = training.load_extra([Path(args.corrections)], log=lambda m: stderr.write(m + "\n"))
        report = training.corrections_benefit(
            records, extra, args.folds, args.seed, log=lambda m: stderr.write(m + "\n")
        )
    except (DataError, ValueError) as exc:
        return _fail(stderr, prog, str(exc))
    if args.format == "json":
        json.dump(report, stdout, indent=1)
        stdout.write("\n")
        return 0
    stdout.write(
        f"corrections from {report['transcripts']} transcripts, {report['folds']} folds by transcript\n"
    )
    for head, r in report["heads"].items():
        verdict = "helped" if r["helped"] else "did not help"
        stdout.write(
            f"  {head:<16} {r['labelled_turns']:>5} held-out corrected turns: accuracy "
            f"{r['accuracy_without']:.2f} without, {r['accuracy_with']:.2f} with ({verdict})\n"
        )
    return 0
