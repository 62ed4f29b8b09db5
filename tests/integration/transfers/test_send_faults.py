"""A remote send whose own storage fails mid-read while packaging the second of three hồ sơ
(every location returns EIO after its first bytes): the first stays sent, the second and third
are not recorded as sent nor posted, the copies are not flagged (an unreadable copy is not a bad
one), and the answer is TRF210 (503, the archive's fault, send again), not TRF019 ("no good
copy, run khoso audit --repair"). Sending again once the disk is back sends the rest, each hồ
sơ once. Against the scripted loopback receiver of ``test_hostile_remote``."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from preservation.catalog.models import AuditEntry, StoredCopy
from storage.filesystem import FilesystemStorage
from tests.integration.transfers.test_hostile_remote import SECRET
from tests.integration.transfers.test_send_guard import Receiver, items, remote, three  # noqa: F401
from tests.support.faults import FailingMidRead

pytestmark = pytest.mark.integration


def test_storage_failing_mid_send_sends_nothing_of_that_hoso_and_the_retry_sends_it(
        three, remote, monkeypatch):  # noqa: F811
    khoso, api, head, tid = three
    receiver = Receiver(remote, hold=set())
    real_open = FilesystemStorage.open

    def failing_after_the_first_bag(self, key, **kw):
        stream = real_open(self, key, **kw)
        if receiver.count >= 1 and "/data/representations/" in key:
            return io.BufferedReader(FailingMidRead(stream))
        return stream

    monkeypatch.setattr(FilesystemStorage, "open", failing_after_the_first_bag)
    body = {"remote_url": remote.url, "token": SECRET}
    failed = api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body)

    assert failed.status_code == 503, failed.json
    assert failed.json["code"] == "TRF210", failed.json
    assert "replica1" in failed.json["message"] and "gửi lại" in failed.json["message"]
    assert receiver.count == 1
    assert items(khoso, tid) == [("processing", "job-1", None), ("pending", None, None),
                                 ("pending", None, None)]
    with khoso.catalog.session() as s:  # an unreadable copy is not a bad copy
        assert set(s.scalars(sa.select(StoredCopy.last_check_result))) == {"ok"}
        entry = s.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "transfer.send_failed")).one()
        assert entry.detail["code"] == "TRF210" and len(entry.detail["sent"]) == 1
    assert not list((khoso.settings.data_dir / "transfers").glob("*/*")), "no ZIP left"

    monkeypatch.setattr(FilesystemStorage, "open", real_open)  # the disk is back
    resumed = api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body)
    assert resumed.status_code == 200, resumed.json
    assert receiver.count == 3, "each hồ sơ posted once"
    assert [j for _, j, _ in items(khoso, tid)] == ["job-1", "job-2", "job-3"]
