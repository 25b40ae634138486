"""Log redaction: logs must never carry client text or identifiers.

One filter sits on every handler (settings.LOGGING sends every logger, runserver's request
lines included, through the root handler). It replaces, in the message, the exception text
and the stack:

- record ids: UUIDs anywhere, and integer ids in URL paths (``/clients/1/``);
- sign-in and questionnaire link tokens: whole query strings (``?t=…``) and long opaque path
  segments (``/m/<token>/``);
- email addresses.

Task ids stay: they are not personal data, and a lost or repeated job can only be traced by
them. A UUID is kept only where django-tasks' own loggers write it as ``Task id=<uuid>``.
"""

from __future__ import annotations

import logging
import re

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TASK_ID = re.compile(r"(?<=Task id=)" + _UUID.pattern)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_QUERY = re.compile(r"\?[^\s\"']*")
# A path segment of digits (an integer id) or a long run of token characters with a digit in
# it (a link token; the app's own words in URLs are short and have no digits).
_PATH_INT = re.compile(r"(?<=/)\d+(?=/|\s|$|\"|')")
_PATH_TOKEN = re.compile(r"(?<=/)(?=[A-Za-z_-]*\d)[A-Za-z0-9_-]{16,}(?=/|\s|$|\"|')")

TASK_LOGGERS = ("django_tasks", "django_tasks_db")


def redact(text: str, *, keep_task_ids: bool = False) -> str:
    kept: list[str] = []
    if keep_task_ids:

        def hold(match: re.Match[str]) -> str:
            kept.append(match.group(0))
            return f"\x00{len(kept) - 1}\x00"

        text = _TASK_ID.sub(hold, text)
    text = _QUERY.sub("?<query>", text)
    text = _UUID.sub("<id>", text)
    text = _EMAIL.sub("<email>", text)
    text = _PATH_TOKEN.sub("<token>", text)
    text = _PATH_INT.sub("<n>", text)
    for i, value in enumerate(kept):
        text = text.replace(f"\x00{i}\x00", value)
    return text


_formatter = logging.Formatter()


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_alliance_redacted", False):
            return True  # already done by another handler's copy of this filter
        keep = record.name.split(".")[0] in TASK_LOGGERS
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call must not break the request
            message = str(record.msg)
        record.msg = redact(message, keep_task_ids=keep)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, keep_task_ids=keep)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, keep_task_ids=keep)
        # The request object runserver attaches is not for formatting; drop it so no
        # handler or formatter can print its path.
        if hasattr(record, "request"):
            record.request = None
        record._alliance_redacted = True
        return True
