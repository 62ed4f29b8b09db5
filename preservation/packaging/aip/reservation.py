"""Who holds a reserved AIP version, and whether that holder can still finish it.

A new version is reserved (a ``received`` package row, unique objid+version) before any of
its objects is written. The process that reserved it may be killed (SIGKILL, OOM, power)
before it registers the version or releases the row; then every later change of that AIP
would find v(N+1) taken forever. So the row names its holder, ``host:pid:start``, and the
time it was reserved. ``start`` is the boot id and the process's start time in clock ticks
(``/proc/<pid>/stat``), so a pid reused by another process is not taken for the holder.

A reservation is *live* while it can still be finished: on this host, while the holder
process runs (whatever its age: a live writer must never lose its keys under it); held on
another host, until ``LEASE`` has passed, since that host's processes cannot be seen from
here. A metadata version holds a few EAD/METS/PREMIS files and is registered within seconds,
so an hour is far beyond any honest run. Anything else is *dead*, and may be taken back.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

LEASE = dt.timedelta(hours=1)


class Verdict(StrEnum):
    LIVE = "live"  # its holder runs on this host, or it is within the lease
    HOLDER_GONE = "holder_gone"  # the holder process is gone from this host
    LEASE_EXPIRED = "lease_expired"  # held elsewhere (or by nobody named), older than LEASE

    @property
    def dead(self) -> bool:
        return self is not Verdict.LIVE


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks) of a process, None if there is none (Linux)."""
    text = _read(f"/proc/{pid}/stat")
    if text is None:
        return None
    fields = text.rpartition(")")[2].split()  # the command name may hold spaces and ")"
    return (fields[0], fields[19]) if len(fields) > 19 else None


def _boot() -> str:
    return (_read("/proc/sys/kernel/random/boot_id") or "-").strip()[:8] or "-"


def _start(pid: int) -> str:
    stat = _stat(pid)
    return f"{_boot()}-{stat[1]}" if stat else "-"


@dataclass(frozen=True)
class Holder:
    """A process that may reserve a version."""

    host: str
    pid: int
    start: str  # boot id and start ticks; "-" where the platform does not tell

    @property
    def token(self) -> str:
        return f"{self.host}:{self.pid}:{self.start}"[:200]

    @classmethod
    def parse(cls, token: str | None) -> Holder | None:
        host, _, rest = (token or "").rpartition(":")
        host, _, pid = host.rpartition(":")
        return cls(host, int(pid), rest) if host and pid.isdigit() else None

    def running(self) -> bool:
        """Whether this process (a process on this host) still runs."""
        stat = _stat(self.pid)
        if stat is not None:
            return stat[0] not in ("Z", "X") and (self.start == "-" or
                                                  self.start == f"{_boot()}-{stat[1]}")
        if Path("/proc/self/stat").exists():
            return False  # /proc answers for every process: none with that pid
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def this_process() -> Holder:
    return Holder(socket.gethostname(), os.getpid(), _start(os.getpid()))


def judge(reserved_by: str | None, reserved_at: dt.datetime | None,
          now: dt.datetime) -> Verdict:
    """Whether a reservation is live (see the module's note). A row reserved before holders
    were recorded (no ``reserved_by``) is judged by its age alone."""
    holder = Holder.parse(reserved_by)
    if holder is not None and holder.host == socket.gethostname():
        return Verdict.LIVE if holder.running() else Verdict.HOLDER_GONE
    if reserved_at is not None and reserved_at.tzinfo is None:
        reserved_at = reserved_at.replace(tzinfo=dt.UTC)  # SQLite gives naive UTC
    if reserved_at is None or now - reserved_at > LEASE:
        return Verdict.LEASE_EXPIRED
    return Verdict.LIVE
