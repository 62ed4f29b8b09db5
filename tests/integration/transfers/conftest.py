"""A transfer of one ingested hồ sơ to the receiver "TTLT", ready to send (a 1 s answer
timeout), shared by the tests of a receiver that misbehaves."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from preservation.catalog.models import RecordFile
from tests.support.api_submissions import client, token_for
from tests.support.sips import make_sip
from tests.support.transfers import planned


@pytest.fixture
def sender(khoso, tmp_path):
    assert khoso.ingest(make_sip(tmp_path / "sip")).accepted
    api = client(khoso, transfer_remote_timeout=1)
    head = token_for(khoso, "luu-tru-vien", "archivist")
    with khoso.catalog.session() as s:
        code = s.scalar(sa.select(RecordFile.arc_file_code))
    resp = api.post("/api/v1/transfers", headers=head, json={
        "fonds": "P623", "title": "Khối tài liệu", "receiver": "TTLT", "planned_on": planned(),
        "records": [code]})
    assert resp.status_code == 201, resp.json
    return khoso, api, head, resp.json["id"]
