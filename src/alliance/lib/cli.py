"""Command-line plumbing shared by the Django-free tools (``alliance score``, ``ruptures``, ``gas``).

Bad input is one line on stderr and exit status 2, never a traceback; help goes to the streams
the caller gives, so the commands are testable without a terminal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

EXIT_OK = 0
EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Bad command line or input file: printed as one line, exit status 2."""


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse that reports errors as one line and writes help to the streams it is given.

    Shared by the ``score``, ``ruptures`` and ``gas`` commands so they behave alike.
    """

    def __init__(self, *args: Any, stdout: IO[str], stderr: IO[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._out, self._err = stdout, stderr

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        # argparse asks for sys.stdout (help) or sys.stderr; map them onto the given streams.
        if message:
            (self._err if file is sys.stderr else self._out).write(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._err.write(message)
        raise SystemExit(status)


def run_cli(main: Any, argv: Sequence[str], stdout: IO[str], stderr: IO[str]) -> int:
    """Call ``main`` turning UsageError into one line on stderr and exit 2; --help exits 0."""
    try:
        return int(main(list(argv), stdout, stderr))
    except UsageError as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    except SystemExit as exc:  # --help
        return int(exc.code or 0)


def read_text_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read ({exc.__class__.__name__})") from None
