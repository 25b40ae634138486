"""Transcript analysis for therapist feedback; Django-free (never import django here).

Public API:

* :func:`parse_transcript` / :func:`read_transcript` and :class:`TranscriptError` (``transcripts``);
* :func:`guess_roles` (``roles``);
* :func:`analyze_text` – the whole analysis of one transcript as a JSON-able dict (``analyze``);
* the estimators in ``estimators`` and the session metrics in ``metrics``.

Heavier modules are imported on first use so that importing ``alliance.nlp`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .roles import guess_roles
from .transcripts import Transcript, TranscriptError, Turn, parse_transcript, read_transcript

__all__ = [
    "Transcript",
    "TranscriptError",
    "Turn",
    "analyze_text",
    "analyze_transcript",
    "guess_roles",
    "load_model",
    "parse_transcript",
    "read_transcript",
]

_LAZY = {
    "analyze_text": "analyze",
    "analyze_transcript": "analyze",
    "load_model": "model",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
