"""PREMIS events and agents as plain values, recorded by steps and persisted once by the runner.

Event types use the Library of Congress PREMIS event-type vocabulary verbatim. A check that did
not run is ``not_performed``, never ``success``.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# https://id.loc.gov/vocabulary/preservation/eventType
INGESTION_START = "ingestion start"
INGESTION_END = "ingestion end"
UNPACKING = "unpacking"
VALIDATION = "validation"
MESSAGE_DIGEST_CALCULATION = "message digest calculation"
FIXITY_CHECK = "fixity check"
VIRUS_CHECK = "virus check"
FORMAT_IDENTIFICATION = "format identification"
DIGITAL_SIGNATURE_VALIDATION = "digital signature validation"
INFORMATION_PACKAGE_CREATION = "information package creation"
REPLICATION = "replication"
ACCESSION = "accession"
DELETION = "deletion"
TRANSFER = "transfer"
IMAGING = "imaging"  # digitising a paper original (LoC has no "digitization"): its OCR text


_random = bytearray()
_random_lock = threading.Lock()
os.register_at_fork(after_in_child=_random.clear)  # a forked worker must not repeat our UUIDs


def new_uuid() -> str:
    """A random (version 4) UUID like ``str(uuid.uuid4())``, from randomness drawn 4 KiB at a
    time: a 100,000-file ingest makes 200,000 events, and a getrandom call for each one
    showed in its profile."""
    with _random_lock:
        if not _random:
            _random.extend(os.urandom(4096))
        b = _random[-16:]
        del _random[-16:]
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def now_ms() -> dt.datetime:
    """Now in UTC to the millisecond: PREMIS XML keeps event times to the millisecond, so an
    event made with this time is the same in the catalog and in the AIP (a catalog rebuilt
    from the AIPs keeps every event's original time)."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    WARNING = "warning"
    NOT_PERFORMED = "not_performed"


@dataclass(frozen=True, slots=True)
class Agent:
    """A PREMIS agent; software agents carry their version in ``name`` and ``note``."""

    identifier_value: str
    name: str
    agent_type: str = "software"
    identifier_type: str = "local"
    note: str | None = None


@dataclass(frozen=True, slots=True)  # one or more per file: 100,000-file SIPs
class Event:
    event_type: str
    outcome: Outcome
    detail: str = ""
    outcome_detail: str = ""
    object_identifier: str | None = None  # a package-relative path, or the package OBJID
    agents: tuple[tuple[Agent, str], ...] = ()  # (agent, role)
    when: dt.datetime = field(default_factory=lambda: now_ms())
    event_uuid: str = field(default_factory=new_uuid)
    # the facts a register reads (counts, locations, bad objects), as data: never parsed
    # back out of ``detail`` (``preservation.catalog.event_data``)
    outcome_data: Mapping[str, Any] | None = field(default=None, hash=False)


KHOSO_AGENT_ID = "khoso"


def khoso_agent() -> Agent:
    """khoso itself as the PREMIS agent of what it does (ingest steps, new AIP versions)."""
    from preservation import __version__

    return Agent(f"{KHOSO_AGENT_ID}-{__version__}", f"khoso {__version__}",
                 note="Kho lưu trữ số (OAIS), ingest pipeline")
