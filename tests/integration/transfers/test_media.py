"""A transfer on media between two khoso instances, through the sender's API: the bags and the
mục lục written to a folder, each bag ingested by the receiving khoso as any SIP, its receipt
recorded at the sender and checked, then the sender's copies marked transferred."""

from __future__ import annotations

import errno
import json
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from access_api.services import build_services, jobs
from access_api.services.base import Identity, ServiceContext
from ingest.jobs import create_job, run_job
from preservation.catalog.models import PremisEvent, RecordFile, StoredCopy
from tests.support.api_submissions import client, token_for
from tests.support.sips import make_sip
from tests.support.transfers import RECEIVER_CODE, planned, receiving_khoso

pytestmark = pytest.mark.integration


@pytest.fixture
def world(khoso, tmp_path, clamd_address):
    outcome = khoso.ingest(make_sip(tmp_path / "sip"))
    assert outcome.accepted
    receiver = receiving_khoso(tmp_path / "recv", clamd_address)
    yield khoso, receiver, outcome
    receiver.catalog.dispose()


def _receive(receiver, bag_zip):
    job = create_job(receiver.catalog, bag_zip, "luu-tru-lich-su")
    outcome = run_job(receiver.settings, receiver.catalog, job,
                      services=build_services(receiver.settings))
    assert outcome.accepted, outcome
    return jobs.receipt(ServiceContext(receiver.settings, receiver.catalog),
                        Identity.system("test"), job)


def test_media_transfer_ends_with_the_copies_marked_transferred(world, tmp_path):
    khoso, receiver, outcome = world
    api = client(khoso)
    head = token_for(khoso, "luu-tru-vien", "archivist")
    with khoso.catalog.session() as s:
        code = s.scalar(sa.select(RecordFile.arc_file_code))
    resp = api.post("/api/v1/transfers", headers=head, json={
        "fonds": "P623", "title": "Tài liệu UBND huyện Nghi Lộc 2001", "receiver": "TTLT lịch sử",
        "planned_on": planned(), "records": [code]})
    assert resp.status_code == 201, resp.json
    tid = resp.json["id"]
    assert resp.json["status"] == "pending" and resp.json["items"][0]["arcFileCode"] == code
    # completing before any receipt is refused, nothing changes
    resp = api.post(f"/api/v1/transfers/{tid}/complete", headers=head)
    assert resp.status_code == 409 and resp.json["code"] == "TRF009"
    resp = api.post(f"/api/v1/transfers/{tid}/export", headers=head)
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "processing" and resp.json["delivery"] == "media"
    folder = khoso.settings.data_dir / "transfers" / "media" / tid / "1"
    assert resp.json["media_dir"] == str(folder)
    listing = json.loads((folder / "muc-luc-ho-so-nop-luu.json").read_text(encoding="utf-8"))
    (entry,) = listing["records"]
    assert entry["arcFileCode"] == code and entry["fileCode"] == "H49.64.33.2001.160"
    receipt = _receive(receiver, folder / entry["bag"])
    assert receipt.arc_file_code == f"{RECEIVER_CODE}.H49.64.33.2001.160"
    body = {"job": receipt.job_id, "objid": receipt.objid, "arcFileCode": receipt.arc_file_code,
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256}
                      for f in receipt.files]}
    # a receipt whose digest differs is Không đạt, and completing is still refused
    bad = dict(body, files=[dict(f, sha256="0" * 64) for f in body["files"]])
    resp = api.post(f"/api/v1/transfers/{tid}/receipts", headers=head, json=bad)
    assert resp.status_code == 200 and resp.json["status"] == "failed"
    assert resp.json["items"][0]["problem"]["code"] == "TRF015"
    assert api.post(f"/api/v1/transfers/{tid}/complete", headers=head).json["code"] == "TRF009"
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(RecordFile.state)) == "active"
    # the right receipt: Đạt, then the copies are marked transferred
    resp = api.post(f"/api/v1/transfers/{tid}/receipts", headers=head, json=body)
    assert resp.status_code == 200 and resp.json["status"] == "passed", resp.json
    item = resp.json["items"][0]
    assert item["remote_arcFileCode"] == receipt.arc_file_code and item["problem"] is None
    resp = api.post(f"/api/v1/transfers/{tid}/complete", headers=head)
    assert resp.status_code == 200 and resp.json["status"] == "completed"
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(RecordFile.state)) == "transferred"
        events = s.scalars(sa.select(PremisEvent).where(PremisEvent.event_type == "transfer")).all()
        assert len(events) == 1 and events[0].outcome == "success"
        assert receipt.arc_file_code in events[0].detail
    # mirrored next to the AIP in every location
    for name in ("replica1", "replica2"):
        text = "".join(p.read_text(encoding="utf-8") for p in khoso.replica(name).rglob("*")
                       if p.is_file() and "_events" in p.as_posix())
        assert '"event_type": "transfer"' in text
    # the plan's share counts it as transferred within its target
    plan = api.get("/api/v1/transfers/due", headers=head).json["plan"]
    assert plan["permanent_due_by_target"] == 1 and plan["transferred_within_target"] == 1
    assert plan["share"] == 1.0
    # wrong order: nothing more to do
    for action in ("complete", "export"):
        resp = api.post(f"/api/v1/transfers/{tid}/{action}", headers=head)
        assert resp.status_code == 409 and resp.json["code"] == "TRF008", resp.json
    assert api.post(f"/api/v1/transfers/{tid}/receipts", headers=head,
                    json=body).json["code"] == "TRF008"
    handover = api.get(f"/api/v1/transfers/{tid}/handover", headers=head).json
    assert handover["tong_so_ho_so"] == 1 and handover["tong_so_tep"] == 2
    assert handover["thoi_gian"] == "2001–2001"
    assert handover["muc_luc"][0][1:3] == [code, receipt.arc_file_code]



def test_no_good_copy_sends_nothing_and_flags_the_bad_copies(world):
    khoso, _receiver, _outcome = world
    api = client(khoso)
    head = token_for(khoso, "luu-tru-vien", "archivist")
    with khoso.catalog.session() as s:
        code = s.scalar(sa.select(RecordFile.arc_file_code))
    tid = api.post("/api/v1/transfers", headers=head, json={
        "fonds": "P623", "title": "Khối", "receiver": "TTLT", "planned_on": planned(),
        "records": [code]}).json["id"]
    for name in ("replica1", "replica2"):
        (stored,) = [p for p in khoso.replica(name).rglob("tai-lieu-1.pdf")]
        size = stored.stat().st_size
        stored.chmod(0o644)
        stored.write_bytes(b"x" * size)  # the same size, other bytes
    resp = api.post(f"/api/v1/transfers/{tid}/export", headers=head)
    assert resp.status_code == 503 and resp.json["code"] == "TRF019", resp.json
    assert "tai-lieu-1.pdf" in resp.json["message"]
    view = api.get(f"/api/v1/transfers/{tid}", headers=head).json
    assert view["status"] == "pending" and view["media_dir"] is None
    media = khoso.settings.data_dir / "transfers" / "media" / tid
    assert not media.exists() or not any(media.rglob("*"))
    with khoso.catalog.session() as s:
        results = set(s.scalars(sa.select(StoredCopy.last_check_result)))
        assert results == {"mismatch"}  # both copies flagged for the audit to repair
        assert s.scalar(sa.select(RecordFile.state)) == "active"


@pytest.fixture
def tiny_fs():
    """Mount a full 4 MiB tmpfs on a folder (needs root); unmounted afterwards."""
    mounted: list[Path] = []

    def mount(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],
                              capture_output=True)
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
        mounted.append(folder)
        try:
            with open(folder / "filler", "wb") as f:
                while True:
                    f.write(b"\0" * 4096)
                    f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_full_work_folder_is_the_archives_fault_not_a_bad_copy(world, tiny_fs):
    """The sender's work folder fills while the bag is built: 503 TRF201 naming that folder,
    nothing sent or written to the media folder, no copy flagged; once space is freed the
    export goes through. Before: TRF019 "no good copy … run khoso audit --repair"."""
    khoso, _receiver, _outcome = world
    api = client(khoso)
    head = token_for(khoso, "luu-tru-vien", "archivist")
    with khoso.catalog.session() as s:
        code = s.scalar(sa.select(RecordFile.arc_file_code))
    tid = api.post("/api/v1/transfers", headers=head, json={
        "fonds": "P623", "title": "Khối", "receiver": "TTLT", "planned_on": planned(),
        "records": [code]}).json["id"]
    work = tiny_fs(khoso.settings.data_dir / "transfers" / tid)

    resp = api.post(f"/api/v1/transfers/{tid}/export", headers=head)

    assert resp.status_code == 503 and resp.json["code"] == "TRF201", resp.json
    assert str(khoso.settings.data_dir / "transfers") in resp.json["message"]
    assert "ENOSPC" in resp.json["message"]
    view = api.get(f"/api/v1/transfers/{tid}", headers=head).json
    assert view["status"] == "pending" and view["media_dir"] is None
    media = khoso.settings.data_dir / "transfers" / "media" / tid
    assert not media.exists() or not any(media.rglob("*"))
    with khoso.catalog.session() as s:
        assert set(s.scalars(sa.select(StoredCopy.last_check_result))) == {"ok"}
    (work / "filler").unlink(missing_ok=True)  # the export emptied its work folder anyway
    resp = api.post(f"/api/v1/transfers/{tid}/export", headers=head)
    assert resp.status_code == 200 and resp.json["status"] == "processing", resp.json
