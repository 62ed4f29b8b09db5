"""What a fixity check and a repair find, as data: the types ``storage.audit`` (reading and
recording), ``storage.repair`` (restoring) and ``storage.schedule`` (when) share.

Kept apart from the orchestration so that the three depend on these types and not on each
other: ``schedule`` → ``audit`` → ``repair`` → ``checks`` (an import-linter contract in
``setup.cfg`` keeps it so).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from preservation import __version__
from preservation.catalog.vocab import CheckResult
from preservation.errors import KhosoError
from preservation.events import Agent
from preservation.issues import Issue
from storage.history import foreign_issues
from storage.protocol import FixityOutcome, FixityResult

DEFAULT_PERIOD_DAYS = 90
LAW_MAX_PERIOD_DAYS = 3 * 365 + 1  # "ít nhất một lần trong 3 năm", a leap day included
DEFAULT_RETRY_HOURS = 24
DETAIL_ISSUES = 20  # issues written into a copy's ``last_check_detail``


def check_period(period_days: int) -> int:
    if not isinstance(period_days, int) or not 1 <= period_days <= LAW_MAX_PERIOD_DAYS:
        raise KhosoError("AUD010", name="period_days", value=period_days,
                         reason=f"a whole number of days from 1 to {LAW_MAX_PERIOD_DAYS} (three years, "
                                "the legal maximum)")
    return period_days


def check_positive(name: str, value: int) -> int:
    if not isinstance(value, int) or value < 1:
        raise KhosoError("AUD010", name=name, value=value, reason="a whole number of at least 1")
    return value


def storage_agent() -> Agent:
    return Agent(f"khoso-{__version__}", f"khoso {__version__}",
                 note="Kho lưu trữ số (OAIS), archival storage: fixity audit and repair")


def check_detail(issues: Sequence[Issue]) -> str:
    """``last_check_detail``: what an officer reads first, in Vietnamese, with the codes."""
    lines = [f"[{i.code}] {i.message('vi')}" for i in issues[:DETAIL_ISSUES]]
    if len(issues) > DETAIL_ISSUES:
        more = len(issues) - DETAIL_ISSUES
        lines.append(f"… và {more} vấn đề khác / {more} more")
    return "\n".join(lines)


# -- what the catalog says a copy holds -----------------------------------------------------

@dataclass(frozen=True)
class ObjectRef:
    path: str  # bag-relative
    sha256: str
    size: int


@dataclass(frozen=True)
class CopyRef:
    """A stored copy and its expected objects, detached from any session."""

    copy_id: int
    package_id: int
    objid: str
    location: str
    key: str  # the package's key prefix in that location
    objects: tuple[ObjectRef, ...]
    last_check_result: str = CheckResult.NOT_CHECKED

    def object_key(self, path: str) -> str:
        return f"{self.key}/{path}"


# -- what one check of a copy found ---------------------------------------------------------

_ISSUE_OF = {FixityOutcome.MISMATCH: "AUD001", FixityOutcome.MISSING: "AUD002"}


@dataclass(frozen=True)
class CopyAudit:
    """Every object of one copy re-read: the data its PREMIS "fixity check" event is made from."""

    copy: CopyRef
    results: tuple[FixityResult, ...]
    checked_at: dt.datetime
    seconds: float
    foreign: tuple[str, ...] = ()  # files in the copy's folder its manifests do not list

    def with_outcome(self, *outcomes: FixityOutcome) -> tuple[FixityResult, ...]:
        return tuple(r for r in self.results if r.outcome in outcomes)

    def count(self, outcome: FixityOutcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def bad(self) -> tuple[FixityResult, ...]:
        """Objects known to be wrong (changed or gone): these, and only these, need repair."""
        return self.with_outcome(FixityOutcome.MISMATCH, FixityOutcome.MISSING)

    @property
    def unreadable(self) -> tuple[FixityResult, ...]:
        return self.with_outcome(FixityOutcome.UNREADABLE)

    @property
    def bytes_read(self) -> int:
        return sum(r.bytes_read for r in self.results)

    @property
    def result(self) -> CheckResult:
        """The copy's ``last_check_result``: a known fault wins over a read that failed."""
        if self.with_outcome(FixityOutcome.MISMATCH):
            return CheckResult.MISMATCH
        if self.with_outcome(FixityOutcome.MISSING):
            return CheckResult.MISSING
        if self.unreadable or not self.results:
            return CheckResult.NOT_CHECKED
        return CheckResult.OK

    def path_of(self, result: FixityResult) -> str:
        return result.key.removeprefix(self.copy.key + "/")

    def issues(self) -> list[Issue]:
        c = self.copy
        if not c.objects:
            return [Issue("AUD012", c.key, {"key": c.key, "location": c.location})]
        foreign = foreign_issues(c.location, c.key, self.foreign)
        if self.result is CheckResult.OK:
            return [Issue("AUD004", c.key, {"location": c.location, "objects": len(self.results),
                                            "bytes": self.bytes_read}), *foreign]
        found = []
        for r in self.bad + self.unreadable:
            path = self.path_of(r)
            found.append(Issue(_ISSUE_OF.get(r.outcome, "AUD003"), path, {
                "location": c.location, "path": path, "key": r.key, "expected": r.expected_sha256,
                "actual": r.actual_sha256, "reason": r.detail}))
        return found + foreign


# -- what a repair did ----------------------------------------------------------------------

class RepairStatus(StrEnum):
    REPAIRED = "repaired"  # restored from another copy and re-verified
    LOST = "lost"  # every other location was read and none held it intact
    FAILED = "failed"  # could not be done now (a location unreachable…): a later run retries


_REPAIR_ISSUE = {RepairStatus.REPAIRED: "AUD006", RepairStatus.LOST: "AUD007",
                 RepairStatus.FAILED: "AUD008"}


@dataclass(frozen=True)
class ObjectRepair:
    path: str
    key: str
    location: str
    status: RepairStatus
    source: str | None = None
    bytes: int = 0
    tried: tuple[str, ...] = ()
    reason: str = ""

    def issue(self, objid: str) -> Issue:
        params = {"path": self.path, "location": self.location, "source": self.source, "objid": objid,
                  "tried": ", ".join(self.tried) or "-", "reason": self.reason}
        return Issue(_REPAIR_ISSUE[self.status], self.path, params)


@dataclass(frozen=True)
class CopyRepair:
    audit: CopyAudit
    objects: tuple[ObjectRepair, ...]

    def _with(self, status: RepairStatus) -> tuple[ObjectRepair, ...]:
        return tuple(o for o in self.objects if o.status is status)

    @property
    def repaired(self) -> tuple[ObjectRepair, ...]:
        return self._with(RepairStatus.REPAIRED)

    @property
    def lost(self) -> tuple[ObjectRepair, ...]:
        return self._with(RepairStatus.LOST)

    @property
    def unrepaired(self) -> tuple[ObjectRepair, ...]:
        return tuple(o for o in self.objects if o.status is not RepairStatus.REPAIRED)


# -- a whole run ----------------------------------------------------------------------------

@dataclass
class AuditReport:
    """What one run did; JSON-serialisable with ``to_dict``."""

    started_at: str
    finished_at: str = ""
    copies_checked: int = 0
    ok: int = 0
    bad: int = 0
    not_checked: int = 0
    objects_checked: int = 0
    repaired: int = 0  # objects restored and re-verified
    unrepaired: int = 0  # bad objects left for a later run (a location down…)
    critical: list[str] = field(default_factory=list)  # OBJIDs with no good copy left
    bytes_read: int = 0
    seconds: float = 0.0
    mb_per_s: float = 0.0  # MiB/s, as the benchmarks print it
    locations_down: dict[str, str] = field(default_factory=dict)
    skipped: int = 0
    foreign_files: int = 0  # files inside AIP folders their manifests do not list (AUD042)
    history_restored: int = 0  # _events batches restored from another location (AUD043)
    history_unrestored: int = 0  # _events batches missing or damaged, left so (AUD044)
    disposal_states_restored: int = 0  # destruction case state files restored (AUD210)
    disposal_states_unrestored: int = 0  # state files missing or damaged, left so (AUD211)
    problems: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
