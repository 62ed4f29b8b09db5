"""A DIP build meeting the archive's own faults: every location's read failing mid-file, and
the DIP work folder filling up (a real ENOSPC on a small tmpfs). Either is the archive's
fault: the DIP waits queued (DIP201 / DIP202, transient), no copy is flagged, no half ZIP is
left, and the next run builds it once the fault is gone. Before, both ended the DIP for good
with DIP008 ("no location holds a good copy… run khoso audit --repair")."""

from __future__ import annotations

import errno
import io
import subprocess
import zipfile

import pytest
import sqlalchemy as sa

from access_api.services import dips
from preservation.catalog.models import Dip, Job, StoredCopy
from storage.filesystem import FilesystemStorage
from tests.integration.api.test_dissemination import DOC2, Archive, _content
from tests.integration.api.test_dissemination import archive as archive  # noqa: F401 - fixture
from tests.support.faults import FailingMidRead


def _rerun(archive: Archive, job_id: str) -> None:
    try:
        dips.run_job(archive.ctx, job_id)
    except Exception:  # noqa: BLE001 - the outcome is on the DIP, checked by the caller
        pass


def _state(archive: Archive, queued: dict) -> tuple[Dip, Job]:
    with archive.khoso.catalog.session() as s:
        dip, job = s.get_one(Dip, queued["dip"]), s.get_one(Job, queued["job"])
        s.expunge_all()
    return dip, job


def _no_leftovers(archive: Archive, dip_id: str) -> None:
    folder = dips.dips_dir(archive.ctx)
    assert not any(p.name.startswith(".build-") for p in folder.iterdir())
    assert not dips.zip_path(archive.ctx, dip_id).exists()
    assert not any(p.name.endswith(".part") for p in folder.iterdir())


def _assert_downloadable(archive: Archive, queued: dict) -> None:
    shown = archive.call("GET", queued["status_url"], "reader").get_json()
    assert shown["state"] == "ready" and shown["error"] is None, shown
    data = archive.call("GET", f"{queued['status_url']}/download", "reader").get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        inside = next(n for n in zf.namelist() if n.endswith("/data/tai-lieu-2.png"))
        assert zf.read(inside) == _content(archive.khoso, "tai-lieu-2.png")


def test_every_location_failing_mid_read_leaves_the_dip_queued_not_failed(archive, monkeypatch):
    real_open = FilesystemStorage.open
    monkeypatch.setattr(FilesystemStorage, "open", lambda self, key, **kw: io.BufferedReader(
        FailingMidRead(real_open(self, key, **kw))))
    queued = archive.build({"documents": [DOC2]})

    dip, job = _state(archive, queued)
    assert dip.state == "queued" and job.status == "queued", (dip.state, dip.error)
    assert dip.error["code"] == "DIP201" and "replica1" in dip.error["params"]["unreadable"]
    with archive.khoso.catalog.session() as s:  # an unreadable copy is not a bad copy
        assert set(s.scalars(sa.select(StoredCopy.last_check_result))) == {"ok"}
    _no_leftovers(archive, queued["dip"])

    monkeypatch.setattr(FilesystemStorage, "open", real_open)  # the disk is back
    _rerun(archive, queued["job"])
    _assert_downloadable(archive, queued)
    assert _state(archive, queued)[1].error is None


@pytest.fixture
def full_dips_folder(archive):
    """The DIP work folder on a 512 KiB tmpfs filled to the last byte (needs root to mount)."""
    folder = dips.dips_dir(archive.ctx)
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(folder)],
                          capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    filler = folder / "filler"
    try:
        with open(filler, "wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    try:
        yield filler
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_full_dip_folder_is_the_archives_fault_and_the_build_is_retried(archive,
                                                                          full_dips_folder):
    queued = archive.build({"documents": [DOC2]})

    dip, job = _state(archive, queued)
    assert dip.state == "queued" and job.status == "queued", (dip.state, dip.error)
    assert dip.error["code"] == "DIP202" and "ENOSPC" in dip.error["params"]["reason"]
    with archive.khoso.catalog.session() as s:  # the copies were never in question
        assert set(s.scalars(sa.select(StoredCopy.last_check_result))) == {"ok"}
    full_dips_folder.unlink()
    _no_leftovers(archive, queued["dip"])

    _rerun(archive, queued["job"])  # space freed: the same job builds it
    _assert_downloadable(archive, queued)


def test_the_catalog_connection_killed_before_ready_is_recorded_leaves_the_dip_queued(
        archive, monkeypatch):
    """``pg_terminate_backend`` on the build's own connection just before the DIP is recorded
    ready: DB001, transient; the DIP waits queued (not GEN005, failed for good), no ZIP is
    left for a DIP the catalog does not call ready, and the next run builds it."""
    if not archive.khoso.settings.database_url.startswith("postgresql"):
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    killer = sa.create_engine(archive.khoso.settings.database_url)
    real = dips.access_register

    class KillingRegister:
        killed = 0

        @staticmethod
        def record(s, *args, **kwargs):
            if kwargs.get("step") == "built" and not KillingRegister.killed:
                pid = s.scalar(sa.text("SELECT pg_backend_pid()"))
                with killer.connect() as c:
                    c.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                KillingRegister.killed += 1
            return real.record(s, *args, **kwargs)

    monkeypatch.setattr(dips, "access_register", KillingRegister)
    try:
        queued = archive.build({"documents": [DOC2]})
    finally:
        killer.dispose()
    assert KillingRegister.killed == 1

    dip, job = _state(archive, queued)
    assert dip.state == "queued" and job.status == "queued", (dip.state, dip.error)
    assert dip.error["code"] == "DB001"
    _no_leftovers(archive, queued["dip"])

    monkeypatch.setattr(dips, "access_register", real)
    _rerun(archive, queued["job"])
    _assert_downloadable(archive, queued)
