"""Each attempt to send a hồ sơ to the receiving archive is a PREMIS ``transfer`` event on its
AIP, in the timeline ``GET /api/v1/aips/{objid}/events`` shows: refused at the door (TRF013),
unknown after the bag went out (TRF032), sent with the receiver's job, accepted by its ingest
(receipt checked) or rejected there (TRF016). The events reach the AIP's history in storage,
come back with a catalog rebuilt from it, and do not make the hồ sơ "transferred" there (only
a completion does). Against the scripted loopback receiver of ``test_hostile_remote``."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from access_api.services.transfer_export import agency_file_code
from preservation.catalog.db import Catalog
from preservation.catalog.models import Package, PremisEvent, RecordFile, Transfer
from storage.locations import open_storage
from storage.rebuild import rebuild_catalog
from tests.integration.transfers.test_hostile_remote import SECRET, Remote, _json
from tests.integration.transfers.test_unheard_send import Storing
from tests.support.api_submissions import token_for
from tests.support.rebuild import ARCHIVE

pytestmark = pytest.mark.integration


@pytest.fixture
def remote():
    r = Remote()
    yield r
    r.close()


def timeline(khoso, api) -> list[dict]:
    officer = token_for(khoso, "bao-quan", "preservation_officer")
    with khoso.catalog.session() as s:
        objid = s.scalar(sa.select(Package.objid).where(Package.kind == "AIP"))
    resp = api.get(f"/api/v1/aips/{objid}/events?size=200", headers=officer)
    assert resp.status_code == 200, resp.json
    return [e for e in resp.json["items"] if e["type"] == "transfer"]


def attempts(catalog) -> list[tuple]:
    with catalog.session() as s:
        return [(e.outcome, e.outcome_data["attempt"], e.outcome_data.get("remote_job"),
                 e.outcome_data.get("code"), e.event_uuid)
                for e in s.scalars(sa.select(PremisEvent).where(
                    PremisEvent.event_type == "transfer").order_by(PremisEvent.event_datetime,
                                                                   PremisEvent.id))]


def test_every_send_attempt_is_in_the_aip_timeline_and_survives_a_rebuild(
        sender, remote, tmp_path):
    khoso, api, head, tid = sender
    body = {"remote_url": remote.url, "token": SECRET}
    # refused at the door
    remote.script[("POST", "/api/v1/submissions")] = _json(403, {"code": "SUB001"})
    assert api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body).status_code == 422
    # stored there, answer lost: unknown; sent again, found there: sent with its job
    receiver = Storing(remote, "502")
    assert api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body).status_code == 503
    receiver.after = "ok"
    assert api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body).status_code == 200
    # rejected by the receiver's ingest
    remote.script[("GET", "job-1")] = _json(200, {"state": "rejected",
                                                  "issues": [{"code": "SIP006"}]})
    view = api.post(f"/api/v1/transfers/{tid}/refresh", headers=head,
                    json={"token": SECRET}).json
    assert view["items"][0]["problem"]["code"] == "TRF016"
    # sent again and accepted, its receipt matching what was sent
    assert api.post(f"/api/v1/transfers/{tid}/send", headers=head, json=body).status_code == 200
    job = api.get(f"/api/v1/transfers/{tid}", headers=head).json["items"][0]["remote_job"]
    with khoso.catalog.session() as s:
        sent = s.execute(sa.text("SELECT sent FROM transfer_item")).scalar()
        arc = s.scalar(sa.select(RecordFile.arc_file_code))
    sent = json.loads(sent) if isinstance(sent, str) else sent
    remote.script[("GET", job)] = _json(200, {"state": "accepted"})
    remote.script[("GET", "receipt")] = _json(200, {
        "job": job, "objid": "urn:x", "files": sent,
        "arcFileCode": "TTLTLS." + agency_file_code(arc, ARCHIVE)})
    view = api.post(f"/api/v1/transfers/{tid}/refresh", headers=head,
                    json={"token": SECRET}).json
    assert view["items"][0]["status"] == "passed", view

    found = attempts(khoso.catalog)
    assert [f[:4] for f in found] == [
        ("failure", "refused", None, "TRF013"), ("warning", "unknown", None, "TRF032"),
        ("success", "sent", "job-1", None), ("failure", "refused", "job-1", "TRF016"),
        ("success", "sent", job, None), ("success", "accepted", job, None)]
    shown = timeline(khoso, api)
    assert [e["outcome"] for e in shown] == [f[0] for f in found]
    assert "job-1" in shown[2]["detail"] and "TTLT" in shown[2]["detail"]
    assert all(SECRET not in e["detail"] for e in shown)
    assert {"luu-tru-vien"} <= set(shown[0]["agents"])

    target = Catalog(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
    target.upgrade()
    try:
        report = rebuild_catalog(target, open_storage(khoso.settings.location("replica2")),
                                 archive_code=ARCHIVE)
        assert report.problems == [] and report.complete, report.problems
        assert attempts(target) == found
        with target.session() as s:
            assert s.scalar(sa.select(RecordFile.state)) == "active", "sent is not transferred"
            assert s.scalar(sa.select(sa.func.count()).select_from(Transfer)) == 0
    finally:
        target.dispose()
