"""Reading the transcript files therapists actually have into speaker turns.

Supported: WebVTT from Zoom (``Name: text`` cues) and Microsoft Teams (``<v Name>text</v>`` voice
tags), SubRip (SRT), and plain text with ``Speaker: text`` lines (turns may run over several lines;
an optional ``[00:01:02]`` / ``00:01:02`` timestamp may start the line).  Consecutive cues of one
speaker become one turn that keeps the start of the first cue and the end of the last.

Anything that cannot be read raises :class:`TranscriptError` with a message that names the line,
so the person uploading can fix the file; nothing is stored by this module.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import Literal

Format = Literal["vtt", "srt", "text"]

MAX_SPEAKER_LEN = 60


class TranscriptError(ValueError):
    """The file cannot be read as a transcript; the message says why (and on which line)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


@dataclass
class Turn:
    index: int
    speaker: str
    text: str
    start: float | None = None
    end: float | None = None
    line: int | None = None  # where the turn starts in the file, for messages

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "speaker": self.speaker,
            "text": self.text,
            "start": self.start,
            "end": self.end,
        }


@dataclass
class Transcript:
    turns: list[Turn]
    format: Format
    speakers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.speakers:
            seen: dict[str, None] = {}
            for t in self.turns:
                seen.setdefault(t.speaker, None)
            self.speakers = list(seen)

    @property
    def has_timestamps(self) -> bool:
        return bool(self.turns) and all(
            t.start is not None and t.end is not None for t in self.turns
        )


# --------------------------------------------------------------------------------------------
# decoding


# Files people upload by mistake, told apart by their first bytes, so the message names what
# the file is instead of an encoding error.
_NOT_TRANSCRIPTS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF"),
    (b"PK\x03\x04", "Word (.docx) or other zipped"),
    (b"\xd0\xcf\x11\xe0", "Word (.doc)"),
    (b"{\\rtf", "rich text (.rtf)"),
)


def decode(data: bytes | str) -> str:
    """Bytes to text: UTF-8 (with or without BOM) or UTF-16 with a BOM; a clear error otherwise."""
    if isinstance(data, str):
        text = data
    else:
        if not data:
            raise TranscriptError("the file is empty")
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            try:
                text = data.decode("utf-16")
            except UnicodeDecodeError:
                raise TranscriptError(
                    "the file says it is UTF-16 but is not valid UTF-16"
                ) from None
        else:
            for magic, kind in _NOT_TRANSCRIPTS:
                if data.startswith(magic):
                    raise TranscriptError(
                        f"this is a {kind} file, not a transcript; save or export the transcript as "
                        "WebVTT (.vtt), SubRip (.srt) or plain text (.txt) and upload that"
                    )
            if b"\x00" in data[:4096]:
                raise TranscriptError(
                    "this is binary data, not a transcript (expected a .vtt, .srt or .txt file)"
                )
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                line = data.count(b"\n", 0, exc.start) + 1
                raise TranscriptError(
                    f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8 and try again",
                    line,
                ) from None
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        raise TranscriptError(
            "this is binary data, not a transcript (expected a .vtt, .srt or .txt file)"
        )
    bad = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if bad > 8:
        raise TranscriptError(
            "this looks like binary data, not a transcript (expected a .vtt, .srt or .txt file)"
        )
    if not text.strip():
        raise TranscriptError("the file is empty")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------------------------
# timestamps

_TS = re.compile(r"^(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?$")


def parse_timestamp(value: str, line: int) -> float:
    """``hh:mm:ss.ttt``, ``mm:ss.ttt`` (``,`` also accepted, as in SRT) to seconds."""
    m = _TS.match(value.strip())
    if not m:
        raise TranscriptError(f"timestamp '{value.strip()}' is not valid", line)
    hours, minutes, seconds, frac = m.groups()
    h = int(hours) if hours else 0
    mi, s = int(minutes), int(seconds)
    if mi > 59 or s > 59:
        raise TranscriptError(f"timestamp '{value.strip()}' is not valid", line)
    ms = int(frac.ljust(3, "0")) if frac else 0
    return h * 3600 + mi * 60 + s + ms / 1000.0


_TIMING = re.compile(r"^\s*(\S+)\s+-->\s+(\S+)(?:\s+.*)?$")


def _parse_timing(line_text: str, line: int) -> tuple[float, float]:
    m = _TIMING.match(line_text)
    if not m:
        raise TranscriptError(
            f"expected a cue timing line 'start --> end', found '{_clip(line_text)}'", line
        )
    start, end = parse_timestamp(m.group(1), line), parse_timestamp(m.group(2), line)
    if end < start:
        raise TranscriptError(f"cue ends ({m.group(2)}) before it starts ({m.group(1)})", line)
    return start, end


def _clip(s: str, n: int = 40) -> str:
    s = s.strip()
    return s if len(s) <= n else s[: n - 1] + "…"


# --------------------------------------------------------------------------------------------
# speakers inside cue text

_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>(.*?)(?:</v>|$)", re.S)
_TAGS = re.compile(r"</?[a-z][^>]*>|</v>", re.I)
_NAME_PREFIX = re.compile(rf"^\s*([^\s:][^:\n]{{0,{MAX_SPEAKER_LEN - 1}}}?)\s*:\s+(.*)$", re.S)
_URLISH = re.compile(r"^(https?|ftp|mailto)$", re.I)


def _looks_like_name(name: str) -> bool:
    words = name.split()
    if not words or len(words) > 5 or len(name) > MAX_SPEAKER_LEN:
        return False
    if _URLISH.match(name) or re.fullmatch(r"[\d\s:.,\[\]()]+", name):
        return False
    # a sentence before a colon ("I told her this: ...") is not a name: most words lower-case
    lower = sum(1 for w in words if w[:1].islower())
    return lower <= 1 or len(words) == 1


def _segments(payload: str) -> list[tuple[str | None, str]]:
    """Split a cue payload into (speaker, text) parts.

    Usually one part; a cue holding two voices (``<v A>..</v> <v B>..</v>``, or two
    ``Name: text`` lines) gives one part per voice, so each is credited to its speaker.
    """
    voices = list(_VOICE.finditer(payload))
    if voices:
        parts = [(m.group(1).strip(), _clean(_TAGS.sub("", m.group(2)))) for m in voices]
        before = _clean(_TAGS.sub("", payload[: voices[0].start()]))
        return ([(None, before)] if before else []) + parts
    out: list[tuple[str | None, str]] = []
    for line in payload.split("\n"):
        line = _clean(_TAGS.sub("", line))
        if not line:
            continue
        m = _NAME_PREFIX.match(line)
        if m and _looks_like_name(m.group(1)):
            out.append((m.group(1).strip(), _clean(m.group(2))))
        elif out:
            out[-1] = (out[-1][0], _clean(out[-1][1] + " " + line))
        else:
            out.append((None, line))
    return out


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# --------------------------------------------------------------------------------------------
# formats


@dataclass
class _Cue:
    speaker: str | None
    text: str
    start: float | None
    end: float | None
    line: int


def _parse_vtt(text: str) -> list[_Cue]:
    lines = text.split("\n")
    first = lines[0].strip()
    if not (first == "WEBVTT" or first.startswith(("WEBVTT ", "WEBVTT\t"))):
        raise TranscriptError("a WebVTT file must start with 'WEBVTT'", 1)
    cues: list[_Cue] = []
    i, n = 1, len(lines)
    # header lines until the first blank line
    while i < n and lines[i].strip():
        i += 1
    while i < n:
        if not lines[i].strip():
            i += 1
            continue
        block_start = i
        block = []
        while i < n and lines[i].strip():
            block.append(lines[i])
            i += 1
        head = block[0].strip()
        if head.startswith(("NOTE", "STYLE", "REGION")) and "-->" not in head:
            continue
        if "-->" in head:
            timing_idx = 0
        elif len(block) > 1 and "-->" in block[1]:
            timing_idx = 1  # cue identifier first
        else:
            raise TranscriptError(
                f"expected a cue timing line 'start --> end', found '{_clip(block[min(1, len(block) - 1)])}'",
                block_start + 1 + min(1, len(block) - 1),
            )
        line_no = block_start + timing_idx + 1
        start, end = _parse_timing(block[timing_idx], line_no)
        payload = "\n".join(block[timing_idx + 1 :])
        for extra, ln in (
            (b, block_start + k + 1) for k, b in enumerate(block[timing_idx + 1 :], timing_idx + 1)
        ):
            if "-->" in extra:
                raise TranscriptError(
                    "a cue timing line inside cue text (is a blank line missing?)", ln
                )
        for speaker, body in _segments(payload):
            cues.append(_Cue(speaker, body, start, end, line_no))
    return cues


def _parse_srt(text: str) -> list[_Cue]:
    lines = text.split("\n")
    cues: list[_Cue] = []
    i, n = 0, len(lines)
    while i < n:
        if not lines[i].strip():
            i += 1
            continue
        block_start = i
        block = []
        while i < n and lines[i].strip():
            block.append(lines[i])
            i += 1
        if not block[0].strip().isdigit():
            if "-->" in block[0]:
                timing_idx = 0  # some exporters drop the counter
            else:
                raise TranscriptError(
                    f"expected a subtitle number, found '{_clip(block[0])}'", block_start + 1
                )
        else:
            timing_idx = 1
        if len(block) <= timing_idx:
            raise TranscriptError("subtitle number without a timing line", block_start + 1)
        line_no = block_start + timing_idx + 1
        start, end = _parse_timing(block[timing_idx], line_no)
        for speaker, body in _segments("\n".join(block[timing_idx + 1 :])):
            cues.append(_Cue(speaker, body, start, end, line_no))
    return cues


_PLAIN_TS = re.compile(
    r"^\s*[\[(]?((?:\d{1,3}:)?\d{1,2}:\d{1,2}(?:[.,]\d{1,3})?)[\])]?\s*[-–—]?\s*"
)
_PLAIN_TS_ONLY = re.compile(r"^\s*[\[(]?((?:\d{1,3}:)?\d{1,2}:\d{1,2}(?:[.,]\d{1,3})?)[\])]?\s*$")
_BRACKETED_TS = re.compile(r"^\s*[\[(]([^\])]*)[\])]")


def _parse_plain(text: str) -> list[_Cue]:
    cues: list[_Cue] = []
    pending_ts: float | None = None
    current: _Cue | None = None
    for no, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        ts: float | None = None
        m_only = _PLAIN_TS_ONLY.match(line)
        if m_only:
            pending_ts = parse_timestamp(m_only.group(1), no)
            continue
        m = _PLAIN_TS.match(line)
        if m and (":" in line[m.end() :] or current is None):
            ts = parse_timestamp(m.group(1), no)
            line = line[m.end() :]
        else:
            mb = _BRACKETED_TS.match(line)
            if mb and re.fullmatch(r"[\d:.,\s]+", mb.group(1)):
                # looks like a timestamp in brackets but is not a valid one
                parse_timestamp(mb.group(1), no)
        speaker, body = None, line
        mname = _NAME_PREFIX.match(line)
        if mname and _looks_like_name(mname.group(1)):
            speaker, body = mname.group(1).strip(), _clean(mname.group(2))
        elif line.endswith(":") and _looks_like_name(line[:-1]) and len(line) <= MAX_SPEAKER_LEN:
            speaker, body = line[:-1].strip(), ""
        if speaker is not None:
            start = ts if ts is not None else pending_ts
            pending_ts = None
            current = _Cue(speaker, body, start, None, no)
            cues.append(current)
        else:
            if current is None:
                raise TranscriptError(
                    f"expected 'Speaker: text' but found '{_clip(line)}' before any speaker name",
                    no,
                )
            current.text = _clean(current.text + " " + line)
    return cues


# --------------------------------------------------------------------------------------------


def detect_format(text: str, filename: str = "") -> Format:
    name = filename.lower()
    head = text.lstrip()[:10]
    if name.endswith(".vtt") or head.startswith("WEBVTT"):
        return "vtt"
    if name.endswith(".srt"):
        return "srt"
    first_lines = [ln.strip() for ln in text.split("\n") if ln.strip()][:2]
    if len(first_lines) == 2 and first_lines[0].isdigit() and "-->" in first_lines[1]:
        return "srt"
    return "text"


def parse_transcript(data: bytes | str, filename: str = "") -> Transcript:
    """Parse a transcript file's content; ``filename`` only helps pick the format."""
    text = decode(data)
    fmt = detect_format(text, filename)
    cues = {"vtt": _parse_vtt, "srt": _parse_srt, "text": _parse_plain}[fmt](text)
    if not cues:
        raise TranscriptError("the file holds no spoken text")
    turns: list[Turn] = []
    last_speaker: str | None = None
    for cue in cues:
        speaker = cue.speaker or last_speaker
        if speaker is None:
            raise TranscriptError(
                "no speaker name for this cue: expected 'Name: text' or a '<v Name>' voice tag",
                cue.line,
            )
        last_speaker = speaker
        if turns and turns[-1].speaker == speaker:
            prev = turns[-1]
            prev.text = _clean(prev.text + " " + cue.text)
            if cue.end is not None:
                prev.end = cue.end
            continue
        turns.append(Turn(len(turns), speaker, cue.text, cue.start, cue.end, cue.line))
    turns = [t for t in turns if t.text]
    for i, t in enumerate(turns):
        t.index = i
    if not turns:
        raise TranscriptError("the file holds no spoken text")
    if not any(c.speaker for c in cues):
        raise TranscriptError(
            "no speaker names found: expected 'Name: text' lines or '<v Name>' voice tags"
        )
    return Transcript(turns=turns, format=fmt)


def read_transcript(path: str) -> Transcript:
    """Read and parse a file from disk (errors name the file's line, not the path)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise TranscriptError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise TranscriptError(f"{path}: is a directory") from None
    except PermissionError:
        raise TranscriptError(f"{path}: permission denied") from None
    return parse_transcript(data, filename=path)
