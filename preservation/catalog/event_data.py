"""The facts of storage's PREMIS events as data (``premis_event.outcome_data``), not text.

The registers (``storage.registers``) are views of the fixity check and replication events;
they read the counts, locations and bad objects from ``outcome_data``. ``detail`` and
``outcome_detail`` stay what a person reads (and what PREMIS.xml carries).

Events recorded before ``outcome_data`` existed kept those facts only in their text, in the
``k=v; k=v`` shape below: ``legacy_event_data`` reads that shape once, where such events come
in (the 0005 migration, a rebuild from sidecars written by an earlier version) and for writers
that do not give data yet.
"""

from __future__ import annotations

from typing import Any

from preservation.events import FIXITY_CHECK, REPLICATION

__all__ = ["FIXITY_CHECK", "REPLICATION", "legacy_event_data"]
_FIXITY_COUNTS = ("objects", "ok", "mismatch", "missing", "unreadable", "bytes")


def _pairs(text: str | None) -> dict[str, str]:
    """``k=v; k=v`` pairs of the first line."""
    first = (text or "").split("\n", 1)[0]
    parts = (part.strip().partition("=") for part in first.split(";"))
    return {k: v for k, sep, v in parts if sep}


def _number(value: str) -> int | float | str:
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def legacy_event_data(event_type: str, detail: str | None,
                      outcome_detail: str | None) -> dict[str, Any] | None:
    """``outcome_data`` of an event written before it existed, from its text; None for event
    types that never carried facts in their text."""
    if event_type == FIXITY_CHECK:
        where = _pairs(detail)
        head, *lines = (outcome_detail or "").split("\n")
        counts = {k: _number(v) for k, v in _pairs(head).items()}
        listed = []
        for line in lines:
            outcome, sep, path = line.partition(": ")
            if sep and outcome in ("mismatch", "missing", "unreadable"):
                listed.append([outcome, path])
        data: dict[str, Any] = {k: counts.get(k, 0) for k in _FIXITY_COUNTS}
        data.update(location=where.get("location", ""), key=where.get("key", ""),
                    seconds=counts.get("seconds", 0.0), listed=listed)
        return data
    if event_type == REPLICATION:
        pairs = _pairs(detail)
        out: dict[str, Any] = {k: _number(v) if k in ("objects", "bytes", "seconds") else v
                               for k, v in pairs.items()}
        if "tried" in out:
            out["tried"] = [] if out["tried"] == "-" else out["tried"].split(",")
        return out
    return None
