"""A receiving archive that is slow, answers 5xx or garbage, redirects, refuses the bag,
rejects it after ingest or returns a receipt that does not match: each is a stable code, no
hồ sơ is marked transferred, the transfer can be sent again, and the token is in no answer
and no audit entry. The receiver here is a real HTTP server on a loopback port that answers
as told (a khoso that misbehaves); the well-behaved receiver is a real khoso
(``test_two_instances``)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from preservation.catalog.models import AuditEntry, RecordFile

pytestmark = pytest.mark.integration
SECRET = "bi-mat-cua-kho-nhan-0123456789"


class Remote:
    """Answers each request with the next scripted ``(status, headers, body)``, or a callable
    of the handler; records what it was sent."""

    def __init__(self) -> None:
        self.script: dict[tuple[str, str], object] = {}
        self.seen: list[tuple[str, str, str | None]] = []
        self.keys: list[str | None] = []  # the Idempotency-Key of each bag posted
        remote = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                return None

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                remote.seen.append((self.command, self.path, self.headers.get("Authorization")))
                if self.command == "POST":
                    remote.keys.append(self.headers.get("Idempotency-Key"))
                key = (self.command, self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
                       if "/jobs/" in self.path else
                       "keys" if "/submissions/keys/" in self.path else self.path)
                answer = remote.script.get(key) or remote.script.get(("*", "*"))
                if callable(answer):
                    answer(self)
                    return
                status, headers, body = answer or (404, {}, b"{}")
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def remote():
    r = Remote()
    yield r
    r.close()


def _slow(handler):
    time.sleep(3)
    handler.send_response(202)
    handler.end_headers()


def _hang_up(handler):
    handler.close_connection = True
    handler.wfile.flush()
    handler.connection.close()


def _json(status, value):
    return status, {"Content-Type": "application/json"}, json.dumps(value).encode()


CASES = {
    "5xx": ((502, {}, b"<html>Bad gateway</html>"), 503, "TRF011"),
    "not JSON": ((202, {}, b"<html>ok</html>"), 503, "TRF012"),
    "a JSON list": (_json(202, [1, 2]), 503, "TRF012"),
    "no job id": (_json(202, {"status_url": "/x"}), 503, "TRF012"),
    "slow": (_slow, 503, "TRF010"),
    "hangs up": (_hang_up, 503, "TRF010"),
    "redirect": ((307, {"Location": "http://127.0.0.1:9/steal"}, b""), 503, "TRF012"),
    "token refused": (_json(401, {"code": "AUTH003"}), 422, "TRF013"),
    "bag refused": (_json(403, {"code": "SUB001"}), 422, "TRF013"),
    "too large": (_json(413, {"code": "SUB010", "message_en": "Too large"}), 409, "TRF014"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_misbehaving_receiver_marks_nothing_and_the_transfer_can_be_sent_again(
        sender, remote, case):
    khoso, api, head, tid = sender
    answer, status, code = CASES[case]
    remote.script[("POST", "/api/v1/submissions")] = answer
    resp = api.post(f"/api/v1/transfers/{tid}/send", headers=head,
                    json={"remote_url": remote.url, "token": SECRET})
    assert resp.status_code == status and resp.json["code"] == code, resp.json
    assert SECRET not in resp.get_data(as_text=True)
    if status == 503:
        assert resp.headers["Retry-After"]
    # the token went to the receiver only, in the Authorization header
    assert remote.seen and all(a == f"Bearer {SECRET}" for _, _, a in remote.seen)
    view = api.get(f"/api/v1/transfers/{tid}", headers=head).json
    assert view["status"] == "pending" and view["items"][0]["status"] == "pending"
    assert view["items"][0]["remote_job"] is None
    # a refusal is a refusal; an answer not heard after the bag went out is "unknown"
    unknown = status == 503
    assert ((view["items"][0]["problem"] or {}).get("code") == "TRF032") == unknown
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(RecordFile.state)) == "active"
        entries = [e.detail for e in s.scalars(sa.select(AuditEntry))]
        details = json.dumps(entries, ensure_ascii=False)
        assert SECRET not in details and code in details
        assert any(e.get("outcome_unknown") for e in entries) == unknown
    # nothing left behind in the data folder
    assert not any((khoso.settings.data_dir / "transfers").rglob("*.zip"))
    # fixed, the receiver takes it: sending again works, after asking it about the bag whose
    # answer was not heard (it does not have it), which then goes with the same key
    remote.script[("POST", "/api/v1/submissions")] = _json(202, {"job": "job-1"})
    remote.script[("GET", "keys")] = _json(200, {"found": False, "job": None})
    resp = api.post(f"/api/v1/transfers/{tid}/send", headers=head,
                    json={"remote_url": remote.url, "token": SECRET})
    assert resp.status_code == 200 and resp.json["items"][0]["remote_job"] == "job-1"
    asked = [p for m, p, _ in remote.seen if m == "GET"]
    assert len(asked) == unknown and len(remote.keys) == 2 and all(remote.keys)
    assert (remote.keys[0] == remote.keys[1]) == unknown, "a refused bag goes as a new one"
    if unknown:
        assert asked[0].endswith("/" + remote.keys[0].replace(":", "%3A"))


def _receipt(files, arc="TTLTLS.H49.64.33.2001.160"):
    return {"job": "job-1", "objid": "urn:P623:uuid-x", "arcFileCode": arc,
            "files": files}


def test_what_the_receiver_says_after_ingest_is_checked(sender, remote):
    khoso, api, head, tid = sender
    remote.script[("POST", "/api/v1/submissions")] = _json(202, {"job": "job-1"})
    resp = api.post(f"/api/v1/transfers/{tid}/send", headers=head,
                    json={"remote_url": remote.url, "token": SECRET})
    assert resp.status_code == 200
    refresh = {"token": SECRET}
    # still running there: stays Đang xử lý
    remote.script[("GET", "job-1")] = _json(200, {"state": "running"})
    view = api.post(f"/api/v1/transfers/{tid}/refresh", headers=head, json=refresh).json
    assert view["status"] == "processing"
    # garbage about the job: a code, nothing decided
    remote.script[("GET", "job-1")] = (200, {}, b"\x00\xff")
    resp = api.post(f"/api/v1/transfers/{tid}/refresh", headers=head, json=refresh)
    assert resp.status_code == 503 and resp.json["code"] == "TRF012"
    # accepted, but its receipt lists another digest: Không đạt (TRF015)
    with khoso.catalog.session() as s:
        sent = s.execute(sa.text("SELECT sent FROM transfer_item")).scalar()
    sent = json.loads(sent) if isinstance(sent, str) else sent
    remote.script[("GET", "job-1")] = _json(200, {"state": "accepted"})
    remote.script[("GET", "receipt")] = _json(200, _receipt(
        [dict(f, sha256="f" * 64) for f in sent]))
    view = api.post(f"/api/v1/transfers/{tid}/refresh", headers=head, json=refresh).json
    assert view["status"] == "failed" and view["items"][0]["problem"]["code"] == "TRF015"
    resp = api.post(f"/api/v1/transfers/{tid}/complete", headers=head)
    assert resp.status_code == 409 and resp.json["code"] == "TRF009"
    # sent again, rejected by the receiver's ingest: Không đạt with its issue codes (TRF016)
    remote.script[("POST", "/api/v1/submissions")] = _json(202, {"job": "job-2"})
    assert api.post(f"/api/v1/transfers/{tid}/send", headers=head,
                    json={"remote_url": remote.url, "token": SECRET}).status_code == 200
    remote.script[("GET", "job-2")] = _json(200, {"state": "rejected",
                                                  "issues": [{"code": "SIP006"}]})
    view = api.post(f"/api/v1/transfers/{tid}/refresh", headers=head, json=refresh).json
    problem = view["items"][0]["problem"]
    assert problem["code"] == "TRF016" and "SIP006" in problem["message"]
    # a receipt naming another hồ sơ's code is not this one's
    remote.script[("POST", "/api/v1/submissions")] = _json(202, {"job": "job-3"})
    api.post(f"/api/v1/transfers/{tid}/send", headers=head,
             json={"remote_url": remote.url, "token": SECRET})
    remote.script[("GET", "job-3")] = _json(200, {"state": "accepted"})
    remote.script[("GET", "receipt")] = _json(200, _receipt(sent, arc="TTLTLS.H49.1999.1"))
    view = api.post(f"/api/v1/transfers/{tid}/refresh", headers=head, json=refresh).json
    assert view["items"][0]["problem"]["code"] == "TRF015"
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(RecordFile.state)) == "active"


@pytest.mark.parametrize("url", ["ftp://host/x", "http://u:p@host", "not a url", "http://",
                                 "http://host/a?token=x", "http://ho st"])
def test_an_unusable_receiver_address_is_refused(sender, url):
    _khoso, api, head, tid = sender
    resp = api.post(f"/api/v1/transfers/{tid}/send", headers=head,
                    json={"remote_url": url, "token": SECRET})
    assert resp.status_code == 422 and resp.json["code"] == "TRF017", resp.json
