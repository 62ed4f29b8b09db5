"""Log lines for operators: text (default) or JSON lines (``KHOSO_LOG_FORMAT=json``) that a log
shipper reads without parsing prose.

A record's ``job_id``, ``step`` and ``outcome`` (passed as ``extra=``) become fields of the JSON
line and a ``[job=… step=… outcome=…]`` tail of the text line.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from enum import StrEnum
from typing import Any, TextIO


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


FIELDS = ("job_id", "step", "outcome")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: getattr(record, k) for k in FIELDS if getattr(record, k, None) is not None}


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = _fields(record)
        if not extra:
            return text
        tail = " ".join(f"{k.removesuffix('_id')}={v}" for k, v in extra.items())
        first, sep, rest = text.partition("\n")  # keep a traceback below the tail
        return f"{first} [{tail}]{sep}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the job fields,
    and the traceback as ``exc`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
            **_fields(record)}
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is when a line is logged (a test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def formatter(fmt: LogFormat | str) -> logging.Formatter:
    return JsonFormatter() if LogFormat(fmt) is LogFormat.JSON else TextFormatter()


def configure_logging(level: str, fmt: LogFormat | str = LogFormat.TEXT, *,
                      unless_handled: bool = False) -> logging.Handler | None:
    """Give the root logger khoso's one stderr handler (replacing one set earlier, keeping any
    other) at ``level``; idempotent. ``unless_handled``: when someone else already handles
    the root logger (a test runner, an embedding program), only set the level."""
    root = logging.getLogger()
    if unless_handled and any(not isinstance(h, StderrHandler) for h in root.handlers):
        root.setLevel(level)
        return None
    for old in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(old)
    handler = StderrHandler()
    handler.setFormatter(formatter(fmt))
    root.addHandler(handler)
    root.setLevel(level)
    return handler
