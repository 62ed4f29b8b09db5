"""The local clamd of the embedded default: its config under the data folder, start and stop.

Official signatures come from ``/var/lib/clamav`` when a mirror or an operator put them there
(khoso never runs freshclam: the archive may have no internet). Without them clamd still needs a
database to start, so khoso writes a test database that knows only EICAR and says so on /healthz.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from preservation.errors import KhosoError

SYSTEM_DB = Path("/var/lib/clamav")
_EICAR_TAIL = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE"
# Assembled at run time so no file of ours is itself the EICAR test string.
_EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + _EICAR_TAIL + "!$H+H*"


@dataclass(frozen=True)
class LocalClamd:
    folder: Path

    @property
    def config(self) -> Path:
        return self.folder / "clamd.conf"

    @property
    def socket(self) -> Path:
        return self.folder / "clamd.sock"

    @property
    def pidfile(self) -> Path:
        return self.folder / "clamd.pid"

    @property
    def address(self) -> str:
        return f"unix://{self.socket}"


def official_database(path: Path = SYSTEM_DB) -> bool:
    return any(path.glob("*.cvd")) or any(path.glob("*.cld"))


def write_test_database(db: Path) -> None:
    db.mkdir(parents=True, exist_ok=True)
    md5 = hashlib.md5(_EICAR.encode(), usedforsecurity=False).hexdigest()
    (db / "khoso-test.hdb").write_text(f"{md5}:{len(_EICAR)}:Test.EICAR.HDB\n")
    (db / "khoso-test.ndb").write_text(f"Test.EICAR.NDB:0:*:{_EICAR_TAIL.encode().hex()}\n")


def configure(folder: Path, system_db: Path = SYSTEM_DB, tmpdir: Path | None = None) -> LocalClamd:
    """Write clamd.conf (idempotent). Limits are raised so big files are scanned, not skipped.

    clamd writes every stream (and every member it unpacks) to ``tmpdir`` before scanning it:
    on a tmpfs that costs 40 % less of its CPU per small file (measured 2026-11-22), at the
    price of RAM for up to ``MaxThreads`` whole streams, so it is the operator's choice
    (KHOSO_CLAMD_TMPDIR).
    """
    clamd = LocalClamd(folder)
    tmpdir = tmpdir or folder / "tmp"
    tmpdir.mkdir(parents=True, exist_ok=True)
    if official_database(system_db):
        database = system_db
    else:
        database = folder / "db"
        write_test_database(database)
    clamd.config.write_text(
        "\n".join([
            "Foreground no",
            f"LocalSocket {clamd.socket}",
            "LocalSocketMode 660",
            "FixStaleSocket yes",
            f"DatabaseDirectory {database}",
            f"TemporaryDirectory {tmpdir}",
            f"PidFile {clamd.pidfile}",
            f"LogFile {folder / 'clamd.log'}",
            "LogTime yes",
            "StreamMaxLength 4095M",
            "MaxScanSize 4095M",
            "MaxFileSize 4095M",
            "AlertExceedsMax yes",
            "MaxThreads 4",
            "SelfCheck 3600",
            "",
        ])
    )
    return clamd


def running_pid(clamd: LocalClamd) -> int | None:
    try:
        pid = int(clamd.pidfile.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def start(clamd: LocalClamd, timeout: float = 60.0) -> int:
    """Start clamd with our config unless it already runs; returns its pid."""
    pid = running_pid(clamd)
    if pid:
        return pid
    try:
        subprocess.run(["clamd", "-c", str(clamd.config)], check=True, capture_output=True,
                       timeout=timeout)
    except FileNotFoundError:
        raise KhosoError("CLAM001", reason="clamd is not installed (apt-get install clamav-daemon)") from None
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        text = getattr(exc, "stderr", b"") or b""
        raise KhosoError("CLAM001", reason=text.decode(errors="replace").strip()[-300:] or str(exc)) from None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = running_pid(clamd)
        if pid and clamd.socket.exists():
            return pid
        time.sleep(0.05)
    raise KhosoError("CLAM001", reason="clamd did not create its socket in time")


def stop(clamd: LocalClamd) -> None:
    pid = running_pid(clamd)
    if pid:
        os.kill(pid, signal.SIGTERM)
