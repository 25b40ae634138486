"""Log redaction: logs must never carry client text or identifiers.

Request paths hold record UUIDs and query strings may hold sign-in tokens or email
addresses; this filter replaces them before any handler sees the record.
"""

from __future__ import annotations

import logging
import re

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_QUERY = re.compile(r"\?[^\s\"']*")


def redact(text: str) -> str:
    text = _UUID.sub("<id>", text)
    text = _EMAIL.sub("<email>", text)
    return _QUERY.sub("?<query>", text)


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call must not break the request
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        return True
