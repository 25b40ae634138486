"""Guessing which speaker is the therapist, for the user to confirm.

A guess only: the upload form shows it and the therapist confirms or corrects it, and the analyzer
takes an explicit therapist name that overrides it.  Cues, strongest first:

1. the name itself ("Therapist", "Counsellor", "Dr", "Clinician", ...; "Client"/"Patient");
2. the share of a speaker's turns that ask a question (therapists ask most of the questions);
3. how often a speaker's turn echoes the other person's previous turn (reflections);
4. the speaker who opens the session, as a weak tie-breaker.
"""

from __future__ import annotations

import re

from .features import STOPWORDS, tokens
from .transcripts import Transcript

Role = str  # "therapist" | "client"

_THERAPIST_NAME = re.compile(
    r"\b(therapist|counsel+or|clinician|psychologist|psychotherapist|counsel+ing|interviewer|"
    r"dr|doctor|coach|social worker|lcsw|lpc|mft|phd|psyd|facilitator|provider)\b\.?|^t$",
    re.I,
)
_CLIENT_NAME = re.compile(r"\b(client|patient|participant|interviewee)\b|^[cp]$", re.I)


def _content(text: str) -> set[str]:
    return {t for t in tokens(text) if t not in STOPWORDS and len(t) > 2 and t not in "?!"}


def role_scores(transcript: Transcript) -> dict[str, float]:
    """A therapist-likeness score per speaker (higher = more therapist-like)."""
    stats: dict[str, dict[str, float]] = {
        s: {"turns": 0, "questions": 0, "echo": 0.0} for s in transcript.speakers
    }
    prev_text: str | None = None
    prev_speaker: str | None = None
    for turn in transcript.turns:
        st = stats[turn.speaker]
        st["turns"] += 1
        if "?" in turn.text:
            st["questions"] += 1
        if prev_text is not None and prev_speaker != turn.speaker:
            cur, prv = _content(turn.text), _content(prev_text)
            if cur and prv:
                st["echo"] += len(cur & prv) / len(cur)
        prev_text, prev_speaker = turn.text, turn.speaker
    scores: dict[str, float] = {}
    for name, st in stats.items():
        n = max(st["turns"], 1)
        score = 1.5 * st["questions"] / n + 1.0 * st["echo"] / n
        if _THERAPIST_NAME.search(name):
            score += 10.0
        if _CLIENT_NAME.search(name):
            score -= 10.0
        if transcript.turns and transcript.turns[0].speaker == name:
            score += 0.05
        scores[name] = score
    return scores


def guess_roles(transcript: Transcript) -> dict[str, Role]:
    """Map every speaker to "therapist" or "client": exactly one therapist is guessed."""
    scores = role_scores(transcript)
    therapist = max(transcript.speakers, key=lambda s: (scores[s], -transcript.speakers.index(s)))
    return {s: ("therapist" if s == therapist else "client") for s in transcript.speakers}


def roles_for(transcript: Transcript, therapist: str | None = None) -> dict[str, Role]:
    """Roles with an explicit therapist name (case-insensitive) or else the guess.

    Raises ``ValueError`` naming the speakers when the given name is not one of them.
    """
    if therapist is None:
        return guess_roles(transcript)
    wanted = therapist.strip().casefold()
    matches = [s for s in transcript.speakers if s.casefold() == wanted]
    if not matches:
        raise ValueError(
            f"speaker {therapist!r} is not in this transcript (speakers: {', '.join(transcript.speakers)})"
        )
    return {s: ("therapist" if s == matches[0] else "client") for s in transcript.speakers}
