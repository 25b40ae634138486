"""Throughput of the full transcript analysis (parse + classify + detectors + metrics).

Prints utterances per second and the ratio to the 500 utterances/s target (a 50-minute
session in about a second on 2 CPU cores).  The transcript is built at bench time from AnnoMI text
in ../shared/data when it is there (real utterance lengths), else from a synthetic template; it is
never written to disk.

    python benchmarks/bench_nlp.py [--turns 3000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from alliance.nlp.analyze import analyze_transcript  # noqa: E402
from alliance.nlp.data import DataError, find_data_dir, load_annomi_csv
from alliance.nlp.model import load_model  # noqa: E402
from alliance.nlp.transcripts import parse_transcript  # noqa: E402

TARGET = 500.0

SYNTHETIC = [
    ("Therapist", "What would you like to focus on today, now that the week is behind you?"),
    (
        "Client",
        "I guess the drinking again. It's been most nights and I'm tired of feeling rough at work.",
    ),
    (
        "Therapist",
        "You're tired of how the mornings feel, and part of you wants something different.",
    ),
    (
        "Client",
        "Yeah, but honestly it's the only thing that helps me unwind after the kids are in bed.",
    ),
    ("Therapist", "Do you drink on your own or with your partner?"),
    ("Client", "Mostly on my own. I don't know. Maybe it's not that bad."),
    (
        "Therapist",
        "Many people find evenings the hardest time. Would it be okay if I shared a few ideas?",
    ),
    ("Client", "Sure. I could try going for a walk instead, I used to like that."),
]


def utterances(turns: int) -> list[tuple[str, str]]:
    try:
        recs = load_annomi_csv(find_data_dir(None) / "AnnoMI-simple.csv")
        pool = [("Therapist" if r.speaker == "therapist" else "Client", r.text) for r in recs]
        source = "AnnoMI text (in memory)"
    except (DataError, OSError):  # no ../shared/data here: fall back to the built-in text
        pool, source = SYNTHETIC, "synthetic template"
    print(f"source: {source}")
    out = []
    i = 0
    while len(out) < turns:
        who, text = pool[i % len(pool)]
        if out and out[-1][0] == who:  # keep turns alternating so they are not merged
            who = "Client" if who == "Therapist" else "Therapist"
        out.append((who, text))
        i += 1
    return out


def as_vtt(turns: list[tuple[str, str]]) -> str:
    lines = ["WEBVTT", ""]
    t = 0.0
    for n, (who, text) in enumerate(turns, 1):
        dur = 1.0 + 0.3 * len(text.split())
        lines += [str(n), f"{_ts(t)} --> {_ts(t + dur)}", f"{who}: {text}", ""]
        t += dur + 0.2
    return "\n".join(lines)


def _ts(s: float) -> str:
    ms = int(round(s * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    text = as_vtt(utterances(args.turns))
    t0 = time.perf_counter()
    model = load_model()
    print(f"model {model.version_} loaded in {time.perf_counter() - t0:.2f} s (once per process)")
    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = analyze_transcript(
            parse_transcript(text, "bench.vtt"), therapist="Therapist", model=model
        )
        best = min(best, time.perf_counter() - t0)
    n = len(result["utterances"])
    rate = n / best
    print(
        f"cpu cores available: {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()}"
    )
    print(f"{n} utterances in {best:.3f} s (best of {args.repeat}): {rate:.0f} utterances/s")
    print(f"ratio to the {TARGET:.0f} utterances/s target: {rate / TARGET:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
