"""PREMIS events and agents as plain values, recorded by steps and persisted once by the runner.

Event types use the Library of Congress PREMIS event-type vocabulary verbatim. A check that did
not run is ``not_performed``, never ``success``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from enum import Enum

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


class Outcome(str, Enum):
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
    when: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    event_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
