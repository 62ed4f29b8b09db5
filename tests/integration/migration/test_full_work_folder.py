"""Format migration when the work folder's disk fills (a real ENOSPC on a small tmpfs, the
real Ghostscript): the archive's fault, MIG201 and transient (the job is retried), nothing
recorded against the AIP. Before, a full folder was a bare OSError (the job failed for good
with MIG008), and a nearly full one made Ghostscript stop, recorded as MIG002 — a "migration
failed" PREMIS event on the AIP saying the file itself could not be converted."""

from __future__ import annotations

import errno
import subprocess
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from access_api.services import migration
from preservation.catalog.models import AuditEntry, Package, PremisEvent
from preservation.catalog.vocab import MigrationOutcome
from preservation.errors import KhosoError
from tests.support.khoso import Khoso
from tests.support.migration import OFFICER, PDF, PDFA, context, ingest
from tests.support.versions import REPLICAS

PAGE = 4096


@pytest.fixture
def work(khoso: Khoso, monkeypatch: pytest.MonkeyPatch):
    """A 1 MiB tmpfs as the migration's temporary folder (needs root to mount)."""
    folder = khoso.tmp / "work"
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
                          capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def _fill(folder: Path, leave: int = 0) -> list[Path]:
    """Fill ``folder``'s disk; ``leave`` bytes (whole pages) are then given back."""
    slack = folder / "slack"
    slack.write_bytes(b"\1" * leave)
    filler = folder / "filler"
    try:
        with open(filler, "wb") as f:
            while True:
                f.write(b"\0" * PAGE)
                f.flush()
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    slack.unlink()
    return [filler]


def _nothing_recorded(khoso: Khoso, objid: str) -> None:
    with khoso.catalog.session() as s:
        (pkg,) = s.scalars(sa.select(Package).where(Package.objid == objid))
        assert pkg.status == "active" and pkg.version == 1
        assert not s.scalars(sa.select(PremisEvent).where(
            PremisEvent.event_type == "migration")).all()
        assert not s.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "package.migration_failed")).all()
    for name in REPLICAS:
        assert not list(khoso.replica(name).glob("TTLTNA/*/*/v2"))


def _migrates_once_freed(khoso: Khoso, objid: str, fillers: list[Path]) -> None:
    for f in fillers:
        f.unlink()
    result = migration.migrate_aip(context(khoso), OFFICER, objid)
    assert result.outcome == MigrationOutcome.MIGRATED and result.migrated == {PDF: PDFA}


def test_a_full_work_folder_is_transient_and_records_nothing(khoso: Khoso, work: Path) -> None:
    objid, _ = ingest(khoso)
    fillers = _fill(work)

    with pytest.raises(KhosoError) as err:
        migration.migrate_aip(context(khoso), OFFICER, objid)

    assert err.value.code == "MIG201" and err.value.transient
    assert "ENOSPC" in err.value.message("en")
    _nothing_recorded(khoso, objid)
    _migrates_once_freed(khoso, objid, fillers)


def test_a_tool_stopping_on_a_nearly_full_folder_is_not_the_files_fault(khoso: Khoso,
                                                                      work: Path) -> None:
    objid, entity = ingest(khoso)
    size = (khoso.replica("replica1") / entity / "v1" / PDF).stat().st_size
    fillers = _fill(work, leave=-(-size // PAGE) * PAGE)  # the source fits, its PDF/A does not

    with pytest.raises(KhosoError) as err:
        migration.migrate_aip(context(khoso), OFFICER, objid)

    assert err.value.code == "MIG201" and err.value.transient, err.value
    _nothing_recorded(khoso, objid)
    _migrates_once_freed(khoso, objid, fillers)
