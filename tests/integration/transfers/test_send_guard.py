"""One send of a transfer at a time, and a send killed mid-way resumed without posting a hồ sơ
twice: against the scripted loopback receiver of ``test_hostile_remote``, which counts every
bag posted to it. The kill is real: ``khoso transfer send`` in a subprocess, SIGKILLed while
the receiver holds the second bag."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from access_api.services import transfer_claim
from preservation.catalog.models import RecordFile, Transfer, TransferItem
from tests.integration.transfers.test_hostile_remote import SECRET, Remote
from tests.support.api_submissions import client, token_for
from tests.support.cli import cli_env
from tests.support.sips import make_sip
from tests.support.transfers import planned

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
POST = ("POST", "/api/v1/submissions")


@pytest.fixture
def remote():
    r = Remote()
    yield r
    r.close()


@pytest.fixture
def three(khoso, tmp_path):
    """A transfer of three hồ sơ, ready to send."""
    for n in (160, 161, 162):
        sip = make_sip(tmp_path / f"sip{n}", hoso={"fileCode": f"H49.64.33.2001.{n}"})
        assert khoso.ingest(sip).accepted
    api = client(khoso, transfer_remote_timeout=20)
    head = token_for(khoso, "luu-tru-vien", "archivist")
    with khoso.catalog.session() as s:
        codes = list(s.scalars(sa.select(RecordFile.arc_file_code).order_by(RecordFile.id)))
    resp = api.post("/api/v1/transfers", headers=head, json={
        "fonds": "P623", "title": "Khối tài liệu", "receiver": "TTLT", "planned_on": planned(),
        "records": codes})
    assert resp.status_code == 201, resp.json
    return khoso, api, head, resp.json["id"]


class Receiver:
    """Answers each bag with a new job id, after ``gate`` opens for the bag numbers in
    ``hold``; ``arrived`` is set when a held bag has been read."""

    def __init__(self, remote: Remote, hold: set[int], *, answer_held: bool = True) -> None:
        self.count, self.lock = 0, threading.Lock()
        self.hold, self.answer_held = hold, answer_held
        self.arrived, self.gate = threading.Event(), threading.Event()
        remote.script[POST] = self

    def __call__(self, handler) -> None:
        with self.lock:
            self.count += 1
            n = self.count
        if n in self.hold:
            self.arrived.set()
            self.gate.wait(60)
            if not self.answer_held:
                return
        body = json.dumps({"job": f"job-{n}"}).encode()
        handler.send_response(202)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


def items(khoso, tid: str) -> list[tuple[str, str | None, str | None]]:
    with khoso.catalog.session() as s:
        return [(i.status, i.remote_job, (i.problem or {}).get("code")) for i in s.scalars(
            sa.select(TransferItem).where(TransferItem.transfer_id == tid)
            .order_by(TransferItem.id))]


def test_a_second_send_while_one_runs_is_refused_and_posts_nothing(three, remote):
    khoso, api, head, tid = three
    receiver = Receiver(remote, hold={1})
    body = {"remote_url": remote.url, "token": SECRET}
    first: dict = {}

    def send_first() -> None:
        resp = client(khoso, transfer_remote_timeout=20).post(
            f"/api/v1/transfers/{tid}/send", headers=head, json=body)
        first.update(status=resp.status_code, json=resp.json)

    runner = threading.Thread(target=send_first)
    runner.start()
    assert receiver.arrived.wait(60), "the first send never posted"
    second = api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body)
    refreshed = api.post(f"/api/v1/transfers/{tid}/refresh", headers=head,
                         json={"token": SECRET})
    receiver.gate.set()
    runner.join(60)
    assert second.status_code == 409 and second.json["code"] == "TRF030", second.json
    assert "đang được gửi" in second.json["message"]
    assert refreshed.status_code == 409, refreshed.json
    assert first["status"] == 200, first
    assert receiver.count == 3, "each hồ sơ posted once"
    assert [j for _, j, _ in items(khoso, tid)] == ["job-1", "job-2", "job-3"]
    with khoso.catalog.session() as s:
        t = s.get_one(Transfer, tid)
        assert t.send_claim is None and t.send_claimed_at is None, "released"


def test_a_killed_send_resumes_without_posting_a_hoso_twice(three, remote, tmp_path):
    """Killed while the receiver holds the second bag: the first has its job, the second is
    held back (TRF031: the receiver may have it), the third is sent by the next run; the
    second goes again only when asked."""
    khoso, api, head, tid = three
    receiver = Receiver(remote, hold={2}, answer_held=False)
    token = tmp_path / "token"
    token.write_text(SECRET)
    env = {**os.environ, **cli_env(khoso), "PYTHONPATH": str(ROOT)}
    sender = subprocess.Popen(
        [sys.executable, "-m", "access_api.cli", "transfer", "send", tid, "--url", remote.url,
         "--token-file", str(token)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        assert receiver.arrived.wait(120), "the killed send never posted its second bag"
    finally:
        sender.send_signal(signal.SIGKILL)
        sender.wait(30)
        receiver.gate.set()
    assert receiver.count == 2
    assert items(khoso, tid) == [("processing", "job-1", None), ("pending", None, None),
                                 ("pending", None, None)]
    body = {"remote_url": remote.url, "token": SECRET}
    resumed = api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body)
    assert resumed.status_code == 200, resumed.json
    assert receiver.count == 3, "only the third hồ sơ posted"
    assert items(khoso, tid) == [("processing", "job-1", None), ("pending", None, "TRF031"),
                                 ("processing", "job-3", None)]
    again = api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body)
    assert again.status_code == 409 and again.json["code"] == "TRF031", again.json
    assert receiver.count == 3, "nothing posted unasked"
    forced = api.post(f"/api/v1/transfers/{tid}/send", headers=head,
                      json={**body, "resend_interrupted": True})
    assert forced.status_code == 200, forced.json
    assert receiver.count == 4
    assert [j for _, j, _ in items(khoso, tid)] == ["job-1", "job-4", "job-3"]


def test_a_claim_from_another_host_holds_until_its_lease_runs_out(three, remote):
    """A run on another machine cannot be asked whether it lives: its claim holds while it is
    younger than the lease (TRF030, nothing posted), and is taken over once older."""
    khoso, api, head, tid = three
    receiver = Receiver(remote, hold=set())
    with khoso.catalog.session() as s:
        t = s.get_one(Transfer, tid)
        t.send_claim = "may-khac:4242:abcdef"
        t.send_claimed_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    body = {"remote_url": remote.url, "token": SECRET}
    held = api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body)
    assert held.status_code == 409 and held.json["code"] == "TRF030", held.json
    assert receiver.count == 0
    with khoso.catalog.session() as s:
        s.get_one(Transfer, tid).send_claimed_at = (
            dt.datetime.now(dt.UTC) - transfer_claim.LEASE - dt.timedelta(minutes=1))
    taken = api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body)
    assert taken.status_code == 200, taken.json
    assert receiver.count == 3
