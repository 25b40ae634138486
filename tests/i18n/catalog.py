"""A small reader and writer for gettext .po files, enough for the i18n tests (no extra package).

Entries keep their ``#:`` references (the source files they come from), flags (``fuzzy``),
context, singular/plural ids and translations.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

ALLIANCE = Path(__file__).resolve().parents[2] / "src" / "alliance"
SPANISH_PO = ALLIANCE / "locale" / "es" / "LC_MESSAGES" / "django.po"
CLIENT_FILES = Path(__file__).resolve().parent / "client_files.txt"


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    references: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values())

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags


def _unquote(text: str) -> str:
    return ast.literal_eval(text.strip())


def read(path: Path) -> tuple[str, list[Entry]]:
    """The header msgstr and the entries (without the header)."""
    entries: list[Entry] = []
    current = Entry()
    last: tuple[str, int] | None = None
    seen_any = False

    def finish() -> None:
        nonlocal current, seen_any
        if seen_any:
            entries.append(current)
        current, seen_any = Entry(), False

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            last = None
            continue
        if line.startswith("#~"):
            current.obsolete = True
            seen_any = True
            continue
        if line.startswith("#:"):
            current.references += line[2:].split()
            continue
        if line.startswith("#,"):
            current.flags |= {f.strip() for f in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        seen_any = True
        if line.startswith("msgctxt "):
            current.msgctxt, last = _unquote(line[8:]), ("msgctxt", 0)
        elif line.startswith("msgid_plural "):
            current.msgid_plural, last = _unquote(line[13:]), ("msgid_plural", 0)
        elif line.startswith("msgid "):
            current.msgid, last = _unquote(line[6:]), ("msgid", 0)
        elif line.startswith("msgstr["):
            index = int(line[7 : line.index("]")])
            current.msgstr[index] = _unquote(line[line.index("]") + 1 :])
            last = ("msgstr", index)
        elif line.startswith("msgstr "):
            current.msgstr[0], last = _unquote(line[7:]), ("msgstr", 0)
        elif line.startswith('"') and last is not None:
            kind, index = last
            more = _unquote(line)
            if kind == "msgstr":
                current.msgstr[index] += more
            else:
                setattr(current, kind, (getattr(current, kind) or "") + more)
    finish()
    live = [e for e in entries if not e.obsolete]
    header = next((e for e in live if e.msgid == "" and e.msgctxt is None), None)
    return (header.msgstr.get(0, "") if header else ""), [e for e in live if e is not header]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write(path: Path, header: str, entries: list[Entry]) -> None:
    out = ['msgid ""', f"msgstr {_quote(header)}", ""]
    for e in entries:
        if e.flags - {"fuzzy"}:
            out.append("#, " + ", ".join(sorted(e.flags - {"fuzzy"})))
        if e.msgctxt is not None:
            out.append(f"msgctxt {_quote(e.msgctxt)}")
        out.append(f"msgid {_quote(e.msgid)}")
        if e.msgid_plural is not None:
            out.append(f"msgid_plural {_quote(e.msgid_plural)}")
            for index in sorted(e.msgstr):
                out.append(f"msgstr[{index}] {_quote(e.msgstr[index])}")
        else:
            out.append(f"msgstr {_quote(e.msgstr.get(0, ''))}")
        out.append("")
    path.write_text("\n".join(out), encoding="utf-8")


def client_files() -> set[str]:
    """The client-facing source files (paths relative to src/alliance)."""
    return {
        line.split()[0]
        for line in CLIENT_FILES.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }


def is_client_facing(entry: Entry, files: set[str]) -> bool:
    return any(ref.rsplit(":", 1)[0] in files for ref in entry.references)
