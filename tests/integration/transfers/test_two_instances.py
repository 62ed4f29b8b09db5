"""Two running khoso instances (two data folders, two ports, each ``khoso serve`` with its
worker): the agency's archive transfers a permanent hồ sơ to the historical archive through
the receiver's own submission API, follows the receiver's job until its receipt matches what
was sent, and only then marks its copies transferred. A refused token and a receiver that is
down are clear codes with nothing marked; the token is in no answer, log or audit entry."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from preservation.catalog.models import AuditEntry, Bitstream, PremisEvent, RecordFile
from tests.support.api_submissions import token_for
from tests.support.live import free_port, live_khoso
from tests.support.sips import make_sip
from tests.support.transfers import RECEIVER_CODE, planned, receiving_khoso, submitter_token
from tests.support.workers import wait_for

pytestmark = pytest.mark.integration


def test_a_transfer_between_two_running_khoso_instances(khoso, tmp_path, clamd_address):
    assert khoso.ingest(make_sip(tmp_path / "sip")).accepted
    receiver = receiving_khoso(tmp_path / "recv", clamd_address)
    secret = submitter_token(receiver)
    archivist = token_for(khoso, "luu-tru-vien", "archivist")["Authorization"].split()[1]
    with khoso.catalog.session() as s:
        code = s.scalar(sa.select(RecordFile.arc_file_code))
        sent_digests = set(s.scalars(sa.select(Bitstream.sha256).where(
            Bitstream.path.startswith("data/representations/rep1/data/"))))
    (tmp_path / "send").mkdir()
    with live_khoso(receiver, tmp_path / "recv") as there, \
            live_khoso(khoso, tmp_path / "send") as here:
        status, t = here.json("POST", "/api/v1/transfers", token=archivist, json_body={
            "fonds": "P623", "title": "Tài liệu UBND huyện Nghi Lộc", "receiver": "TTLT lịch sử",
            "planned_on": planned(), "records": [code]})
        assert status == 201, t
        path = f"/api/v1/transfers/{t['id']}"
        # a token the receiver refuses: a clear code, nothing sent, nothing marked
        status, body = here.json("POST", f"{path}/send", token=archivist, json_body={
            "remote_url": there.url, "token": "khong-phai-ma-dung"})
        assert status == 422 and body["code"] == "TRF013", body
        assert "H49.64.33" in body["message"]  # the agency the token must be bound to
        # a receiver that is down: 503, retry later
        down = f"http://127.0.0.1:{free_port()}"
        status, body = here.json("POST", f"{path}/send", token=archivist, json_body={
            "remote_url": down, "token": secret})
        assert status == 503 and body["code"] == "TRF010", body
        status, body = here.json("GET", path, token=archivist)
        assert body["status"] == "pending" and body["items"][0]["status"] == "pending"
        # following a transfer never sent is refused
        status, body = here.json("POST", f"{path}/refresh", token=archivist,
                                 json_body={"token": secret})
        assert status == 409 and body["code"] == "TRF008"
        # sent for real: the receiver's job is followed until it has a receipt
        status, body = here.json("POST", f"{path}/send", token=archivist, json_body={
            "remote_url": there.url + "/", "token": secret})
        assert status == 200 and body["status"] == "processing", body
        assert body["remote_url"] == there.url and body["items"][0]["remote_job"]
        status, refused = here.json("POST", f"{path}/complete", token=archivist)
        assert status == 409 and refused["code"] == "TRF009"
        seen = []

        def received() -> bool:
            status, view = here.json("POST", f"{path}/refresh", token=archivist,
                                     json_body={"token": secret})
            if status == 409:  # nothing processing any more
                return True
            assert status == 200, view
            seen.append(view["status"])
            return view["status"] != "processing"

        wait_for(received, 240, "the receiver's receipt")
        status, body = here.json("GET", path, token=archivist)
        item = body["items"][0]
        assert body["status"] == "passed", (body, there.log.read_text(errors="replace")[-3000:])
        assert item["remote_arcFileCode"] == f"{RECEIVER_CODE}.H49.64.33.2001.160"
        status, body = here.json("POST", f"{path}/complete", token=archivist)
        assert status == 200 and body["status"] == "completed"
        assert body["items"][0]["status_label"] == "Hoàn thành"
        logs = here.log.read_text(errors="replace") + there.log.read_text(errors="replace")
    # the receiver holds the hồ sơ under its own code, the same content bytes
    with receiver.catalog.session() as s:
        rf = s.scalar(sa.select(RecordFile))
        assert rf.arc_file_code == f"{RECEIVER_CODE}.H49.64.33.2001.160"
        assert rf.title == "Hồ sơ về việc thành lập Sở Nội vụ tỉnh Nghệ An năm 2001"
        got = set(s.scalars(sa.select(Bitstream.sha256).where(
            Bitstream.path.startswith("data/representations/rep1/data/"))))
        assert got == sent_digests
    receiver.catalog.dispose()
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(RecordFile.state)) == "transferred"
        events = s.scalars(sa.select(PremisEvent).where(PremisEvent.event_type == "transfer")
                           .order_by(PremisEvent.event_datetime, PremisEvent.id)).all()
        # each attempt (the refused token; the receiver down reached nothing), then the
        # completion, the one event without an attempt
        assert [((e.outcome_data or {}).get("attempt"), e.outcome) for e in events] == [
            ("refused", "failure"), ("sent", "success"), ("accepted", "success"),
            (None, "success")]
        entries = s.scalars(sa.select(AuditEntry).where(
            AuditEntry.action.startswith("transfer."))).all()
        actions = [e.action for e in entries]
        assert actions.count("transfer.send_failed") == 2
        assert {"transfer.register", "transfer.send", "transfer.receipt",
                "transfer.complete"} <= set(actions)
        assert secret not in json.dumps([e.detail for e in entries], ensure_ascii=False)
    assert secret not in logs
