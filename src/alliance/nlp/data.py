"""Reading AnnoMI-format CSV files into per-utterance records with their context.

AnnoMI (Wu et al., ICASSP 2022, doi:10.1109/ICASSP43922.2022.9746035; Future Internet 15(3):110,
2023, doi:10.3390/fi15030110).  ``AnnoMI-full.csv`` has one row per utterance *and annotator*; the
subtype labels are decided by a majority vote per utterance (ties broken by the alphabetically first
label so that the result does not depend on row order).
"""

from __future__ import annotations

import csv
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

THERAPIST_BEHAVIOURS = ("reflection", "question", "therapist_input", "other")
TALK_TYPES = ("change", "neutral", "sustain")
REFLECTION_TYPES = ("simple", "complex")
QUESTION_TYPES = ("open", "closed")
INPUT_TYPES = ("information", "advice", "negotiation", "options")

REQUIRED_COLUMNS = ("transcript_id", "utterance_id", "interlocutor", "utterance_text")


class DataError(ValueError):
    """The data file is missing or not in AnnoMI format."""


@dataclass
class Record:
    transcript_id: str
    group: str
    utterance_id: int
    speaker: str  # "therapist" | "client"
    text: str
    behaviour: str | None = None
    talk_type: str | None = None
    reflection_type: str | None = None
    question_type: str | None = None
    input_type: str | None = None
    prev: str = ""
    prev_speaker: str = ""
    next: str = ""
    prev2: str = ""
    next2: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _vote(values: list[str], allowed: tuple[str, ...]) -> str | None:
    votes = Counter(v for v in values if v in allowed)
    if not votes:
        return None
    best = max(votes.values())
    return sorted(v for v, c in votes.items() if c == best)[0]


def load_annomi_csv(path: str | os.PathLike[str]) -> list[Record]:
    """Load an AnnoMI-format CSV (simple or full) into ordered records with context filled in."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            columns = reader.fieldnames or []
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise DataError(f"{path}: not an AnnoMI-format CSV (missing column {missing[0]!r})")
            grouped: dict[tuple[str, int], list[dict[str, str]]] = defaultdict(list)
            for line_no, row in enumerate(reader, start=2):
                try:
                    key = (row["transcript_id"], int(row["utterance_id"]))
                except (TypeError, ValueError):
                    raise DataError(
                        f"{path}: line {line_no}: utterance_id is not an integer"
                    ) from None
                grouped[key].append(row)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise DataError(f"{path}: malformed CSV ({exc})") from None
    if not grouped:
        raise DataError(f"{path}: no utterances")

    records: list[Record] = []
    for (tid, uid), rows in sorted(grouped.items(), key=lambda kv: (_tid_key(kv[0][0]), kv[0][1])):
        first = rows[0]
        speaker = first["interlocutor"].strip().lower()
        if speaker not in ("therapist", "client"):
            raise DataError(f"{path}: transcript {tid} utterance {uid}: interlocutor {speaker!r}")
        rec = Record(
            transcript_id=tid,
            group=first.get("video_url") or tid,
            utterance_id=uid,
            speaker=speaker,
            text=first["utterance_text"] or "",
            extra={"mi_quality": first.get("mi_quality", "")},
        )
        if speaker == "therapist":
            rec.behaviour = _vote(
                [r.get("main_therapist_behaviour", "") for r in rows], THERAPIST_BEHAVIOURS
            )
            rec.reflection_type = _vote(
                [r.get("reflection_subtype", "") for r in rows], REFLECTION_TYPES
            )
            rec.question_type = _vote([r.get("question_subtype", "") for r in rows], QUESTION_TYPES)
            rec.input_type = _vote(
                [r.get("therapist_input_subtype", "") for r in rows], INPUT_TYPES
            )
        else:
            rec.talk_type = _vote([r.get("client_talk_type", "") for r in rows], TALK_TYPES)
        records.append(rec)

    for i, rec in enumerate(records):
        if i > 0 and records[i - 1].transcript_id == rec.transcript_id:
            rec.prev = records[i - 1].text
            rec.prev_speaker = records[i - 1].speaker
        if i + 1 < len(records) and records[i + 1].transcript_id == rec.transcript_id:
            rec.next = records[i + 1].text
        if i > 1 and records[i - 2].transcript_id == rec.transcript_id:
            rec.prev2 = records[i - 2].text
        if i + 2 < len(records) and records[i + 2].transcript_id == rec.transcript_id:
            rec.next2 = records[i + 2].text
    return records


def _tid_key(tid: str) -> tuple[int, str]:
    try:
        return (int(tid), tid)
    except ValueError:
        return (1 << 62, tid)


def find_data_dir(explicit: str | None = None) -> Path:
    """The AnnoMI data folder: the given path, ``../shared/data`` from here, or from the repo."""
    candidates: list[Path] = []
    if explicit:
        candidates.append(Path(explicit))
    else:
        candidates.append(Path.cwd() / ".." / "shared" / "data")
        repo = Path(__file__).resolve().parents[3]
        candidates.append(repo / ".." / "shared" / "data")
    for cand in candidates:
        for sub in (cand, cand / "annomi"):
            if (sub / "AnnoMI-full.csv").is_file() or (sub / "AnnoMI-simple.csv").is_file():
                return sub
    raise DataError(f"no AnnoMI data found in {', '.join(str(c) for c in candidates)}")


def training_csv(data_dir: Path) -> Path:
    """Prefer the full file (it carries the subtype labels)."""
    full = data_dir / "AnnoMI-full.csv"
    return full if full.is_file() else data_dir / "AnnoMI-simple.csv"
