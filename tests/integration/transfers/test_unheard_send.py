"""A receiver that stores the bag and then times out, hangs up or answers 5xx: the sender
records the hồ sơ's outcome as unknown (TRF032, audit), and the next send asks the receiver
for the bag's idempotency key before posting anything: found, the hồ sơ is recorded as sent
with that job and never posted twice; not found, it goes again with the same key; a receiver
that cannot be asked holds it back (TRF031) until the officer asks for a resend. A 4xx stays a
refusal. Against the scripted loopback receiver here, and a real receiving khoso behind a
proxy that loses its answer (``test_a_real_receiver_behind_a_proxy_that_loses_the_answer``)."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from preservation.catalog.models import AuditEntry, Job, RecordFile, TransferItem
from tests.integration.transfers.test_hostile_remote import SECRET, Remote, _json
from tests.support.api_submissions import client, token_for
from tests.support.sips import make_sip
from tests.support.transfers import planned

pytestmark = pytest.mark.integration


class Storing:
    """A receiver that stores every bag under its key (one job per key, as khoso does) and
    then answers as ``after`` says: ``"502"``, ``"slow"`` (past the sender's timeout),
    ``"hang up"`` (closes the connection), or ``"ok"``."""

    def __init__(self, remote: Remote, after: str, *, lookup: bool = True) -> None:
        self.after, self.posts, self.jobs = after, 0, {}
        remote.script[("POST", "/api/v1/submissions")] = self.post
        if lookup:
            remote.script[("GET", "keys")] = self.lookup

    def post(self, handler) -> None:
        self.posts += 1
        key = handler.headers.get("Idempotency-Key")
        job = self.jobs.setdefault(key, f"job-{len(self.jobs) + 1}")
        if self.after == "slow":
            time.sleep(2.5)
        if self.after == "hang up":
            handler.close_connection = True
            handler.connection.close()
            return
        status = 502 if self.after == "502" else 202
        self.send(handler, status, {"job": job} if status == 202 else {"code": "GW"})

    def lookup(self, handler) -> None:
        key = urllib.parse.unquote(handler.path.rsplit("/", 1)[-1])
        job = self.jobs.get(key)
        self.send(handler, 200, {"found": job is not None, "job": job})

    @staticmethod
    def send(handler, status: int, value: dict) -> None:
        body = json.dumps(value).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            pass  # the sender gave up waiting


@pytest.fixture
def remote():
    r = Remote()
    yield r
    r.close()


def item(khoso):
    with khoso.catalog.session() as s:
        i = s.scalars(sa.select(TransferItem)).one()
        return i.status, i.remote_job, (i.problem or {}).get("code"), i.objid


FAULTS = {"502": "TRF011", "slow": "TRF010", "hang up": "TRF010"}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_bag_stored_but_unheard_is_found_not_sent_twice(sender, remote, fault):
    khoso, api, head, tid = sender
    receiver = Storing(remote, fault)
    body = {"remote_url": remote.url, "token": SECRET}
    first = api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body)
    assert first.status_code == 503 and first.json["code"] == FAULTS[fault], first.json
    assert receiver.posts == 1 and len(receiver.jobs) == 1, "the receiver holds it"
    status, job, problem, _ = item(khoso)
    assert (status, job, problem) == ("pending", None, "TRF032"), "unknown, not failed"
    with khoso.catalog.session() as s:
        failed = s.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "transfer.send_failed")).one()
        assert failed.detail["outcome_unknown"] and failed.detail["code"] == FAULTS[fault]

    again = api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body)

    assert again.status_code == 200, again.json
    assert receiver.posts == 1, "not posted a second time"
    (key,) = receiver.jobs
    assert item(khoso) == ("processing", "job-1", None, key), "sent, with the job it has there"
    with khoso.catalog.session() as s:
        sent = s.scalars(sa.select(AuditEntry).where(AuditEntry.action == "transfer.send")).one()
        assert sent.detail["found_at_receiver"] is True and sent.detail["remote_job"] == "job-1"
        assert sent.detail["idempotency_key"] == key


def test_a_bag_not_stored_goes_again_with_the_same_key(sender, remote):
    khoso, api, head, tid = sender
    remote.script[("POST", "/api/v1/submissions")] = (502, {}, b"<html>Bad gateway</html>")
    remote.script[("GET", "keys")] = _json(200, {"found": False, "job": None})
    body = {"remote_url": remote.url, "token": SECRET}
    assert api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body).status_code == 503
    receiver = Storing(remote, "ok")
    again = api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body)
    assert again.status_code == 200, again.json
    assert len(remote.keys) == 2 and remote.keys[0] and remote.keys[0] == remote.keys[1]
    assert [m for m, _, _ in remote.seen].count("GET") == 1, "asked before posting again"
    assert receiver.posts == 1 and item(khoso)[:3] == ("processing", "job-1", None)


def test_a_receiver_that_cannot_be_asked_holds_the_hoso_back(sender, remote):
    khoso, api, head, tid = sender
    receiver = Storing(remote, "502", lookup=False)  # an older receiver: 404 for the lookup
    body = {"remote_url": remote.url, "token": SECRET}
    assert api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body).status_code == 503
    held = api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body)
    assert held.status_code == 409 and held.json["code"] == "TRF031", held.json
    assert receiver.posts == 1, "nothing posted unasked"
    receiver.after = "ok"
    forced = api.post(f"/api/v1/transfers/{tid}/send", headers=head,
                      json={**body, "resend_interrupted": True})
    assert forced.status_code == 200, forced.json
    assert receiver.posts == 2 and len(receiver.jobs) == 1, "same key: the receiver dedups"
    assert item(khoso)[:3] == ("processing", "job-1", None)


def test_a_refusal_stays_a_refusal(sender, remote):
    khoso, api, head, tid = sender
    remote.script[("POST", "/api/v1/submissions")] = _json(413, {"code": "SUB010"})
    body = {"remote_url": remote.url, "token": SECRET}
    refused = api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body)
    assert refused.status_code == 409 and refused.json["code"] == "TRF014"
    assert item(khoso)[:3] == ("pending", None, None)
    receiver = Storing(remote, "ok")
    assert api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body).status_code == 200
    assert not [m for m, _, _ in remote.seen if m == "GET"], "nothing to ask about a refusal"
    assert receiver.posts == 1 and remote.keys[0] != remote.keys[1]


# -- a real receiving khoso ----------------------------------------------------------------------

class LosingProxy:
    """Forwards every request to ``target``; the answer to the first bag posted is lost (the
    receiver has stored it and answered; the sender gets a 502)."""

    def __init__(self, target: str) -> None:
        self.posts, self.lost = 0, threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return None

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("authorization", "content-type", "idempotency-key",
                                            "accept")}
                request = urllib.request.Request(target + self.path, data=data,
                                                 method=self.command, headers=headers)
                try:
                    with urllib.request.urlopen(request, timeout=60) as resp:
                        status, body = resp.status, resp.read()
                except urllib.error.HTTPError as err:
                    status, body = err.code, err.read()
                if self.command == "POST":
                    proxy.posts += 1
                    if proxy.posts == 1:
                        status, body = 502, b"<html>Bad gateway</html>"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_real_receiver_behind_a_proxy_that_loses_the_answer(khoso, tmp_path, clamd_address):
    from tests.support.live import live_khoso
    from tests.support.transfers import receiving_khoso, submitter_token

    assert khoso.ingest(make_sip(tmp_path / "sip")).accepted
    receiver = receiving_khoso(tmp_path / "recv", clamd_address)
    secret = submitter_token(receiver)
    api = client(khoso, transfer_remote_timeout=30)
    head = token_for(khoso, "luu-tru-vien", "archivist")
    with khoso.catalog.session() as s:
        code = s.scalar(sa.select(RecordFile.arc_file_code))
    tid = api.post("/api/v1/transfers", headers=head, json={
        "fonds": "P623", "title": "Khối tài liệu", "receiver": "TTLT", "planned_on": planned(),
        "records": [code]}).json["id"]
    with live_khoso(receiver, tmp_path / "recv", worker=False) as there:
        proxy = LosingProxy(there.url)
        try:
            body = {"remote_url": proxy.url, "token": secret}
            first = api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body)
            assert first.status_code == 503 and first.json["code"] == "TRF011", first.json
            assert item(khoso)[2] == "TRF032"
            again = api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body)
        finally:
            proxy.close()
    assert again.status_code == 200, again.json
    assert proxy.posts == 1, "the bag went once"
    with receiver.catalog.session() as s:
        there_jobs = list(s.scalars(sa.select(Job).where(Job.kind == "ingest")))
    assert len(there_jobs) == 1, "one ingest at the receiver"
    status, job, problem, objid = item(khoso)
    assert (status, job, problem) == ("processing", there_jobs[0].id, None)
    assert there_jobs[0].idempotency_key == objid
