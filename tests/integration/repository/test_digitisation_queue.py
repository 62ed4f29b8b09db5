"""The digitisation queue (#16) on SQLite and PostgreSQL: the priority score and each of its
components, the override, states in order only, progress per fonds, and ``mark_digitised``
called as the digitisation import will call it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from access_api.services import access_requests
from access_api.services.base import Identity, ServiceContext, UserRole
from access_api.services.digitisation_queue import mark_digitised
from preservation.catalog import access_register
from preservation.catalog.models import AuditEntry, DigitisationItem, Document
from preservation.catalog.vocab import AccessAction
from preservation.errors import Conflict, NotFound, ValidationFailed
from tests.support.catalog_api import make_api
from tests.support.paper_repository import PAPER
from tests.support.paper_repository import get as _get
from tests.support.paper_repository import paper as _paper
from tests.support.paper_repository import post as _post
from tests.support.paper_repository import store as _store
from tests.support.sips import make_sip


def _queue(api, query=""):
    resp = _get(api, f"/api/v1/digitisation-queue{query}")
    assert resp.status_code == 200, resp.json
    return resp.json


def test_score_is_explained_and_orders_the_queue(khoso, tmp_path):
    assert khoso.ingest(make_sip(tmp_path / "sip", hoso={
        "confidenceLevel": "02", "paperFileCode": PAPER, "numberOfPaper": "20"})).accepted
    api = make_api(khoso)
    _store(api, capacity=5)
    assert _paper(api).status_code == 201  # permanent, good, linked to the catalog's hồ sơ
    assert _paper(api, "TTLTNA.K1.2", maintenance="05", condition="damaged").status_code == 201
    assert _paper(api, "TTLTNA.K1.3", maintenance="05", condition="faded").status_code == 201
    assert _paper(api, "TTLTNA.K1.4", maintenance="05", condition="good",
                  fonds=None).status_code == 201
    # uses: a view in the access register, an access request on the linked record's
    # documents, and two paper loans
    with khoso.catalog.session() as s:
        doc_code = s.scalars(sa.select(Document.doc_code).order_by(Document.id)).first()
        access_register.record(s, "reader-1", AccessAction.VIEW, "document", doc_code)
    ctx = ServiceContext(khoso.settings, khoso.catalog)
    access_requests.create(ctx, Identity("reader-2", frozenset({UserRole.READER})),
                           documents=[doc_code], purpose="01")
    for _ in range(2):
        assert _post(api, f"/api/v1/paper-files/{PAPER}/check-out",
                     {"borrower": "B", "purpose": "P"}).status_code == 201
        assert _post(api, f"/api/v1/paper-files/{PAPER}/check-in", {}).status_code == 200
    queue = _queue(api)
    assert queue["total"] == 4
    scores = {e["code"]: e["score"] for e in queue["items"]}
    top = scores[PAPER]
    assert (top["permanent"], top["uses"], top["use_points"], top["condition_points"],
            top["override"]) == (40, 4, 20, 0, 0)
    assert top["total"] == 60
    assert scores["TTLTNA.K1.2"]["condition_points"] == 30
    assert scores["TTLTNA.K1.3"]["condition_points"] == 20
    assert scores["TTLTNA.K1.4"]["total"] == 0
    assert [e["code"] for e in queue["items"]] == [PAPER, "TTLTNA.K1.2", "TTLTNA.K1.3",
                                                   "TTLTNA.K1.4"]
    for e in queue["items"]:
        s = e["score"]
        assert s["total"] == s["permanent"] + s["use_points"] + s["condition_points"] \
            + s["override"]
    # the archivist's override moves a hồ sơ up, with its reason shown
    over = _post(api, "/api/v1/digitisation-queue/TTLTNA.K1.4/override",
                 {"points": 100, "reason": "Phục vụ triển lãm kỷ niệm"}, method="put")
    assert over.status_code == 200
    assert over.json["score"]["override_reason"] == "Phục vụ triển lãm kỷ niệm"
    assert _queue(api)["items"][0]["code"] == "TTLTNA.K1.4"
    for bad in ({"points": 101, "reason": "x"}, {"points": 5, "reason": ""},
                {"points": "nhiều", "reason": "x"}):
        assert _post(api, "/api/v1/digitisation-queue/TTLTNA.K1.4/override", bad,
                     method="put").status_code == 422
    assert _post(api, "/api/v1/digitisation-queue/TTLTNA.K9.9/override",
                 {"points": 1, "reason": "x"}, method="put").json["code"] == "KHO001"
    assert _queue(api, "?fonds=P623")["total"] == 3


def test_states_in_order_progress_and_mark_digitised(khoso):
    api = make_api(khoso)
    _store(api, capacity=5)
    for code, pages in ((PAPER, 40), ("TTLTNA.K1.2", 10), ("TTLTNA.K1.3", 7)):
        assert _paper(api, code, page_count=pages).status_code == 201

    def step(code, state, **extra):
        return _post(api, f"/api/v1/digitisation-queue/{code}/state", {"state": state, **extra})

    skip = step(PAPER, "done")
    assert skip.status_code == 409 and skip.json["code"] == "KHO008"
    assert "planned" in skip.json["message"]
    assert step(PAPER, "planned").json["state"] == "planned"
    assert step(PAPER, "planned").json["code"] == "KHO008"
    assert step(PAPER, "in_progress").status_code == 200
    assert step(PAPER, "verified").json["code"] == "KHO008"
    done = step(PAPER, "done", pages=38)
    assert done.status_code == 200 and done.json["state"] == "done"
    assert step(PAPER, "verified").json["state"] == "verified"
    assert step(PAPER, "planned").json["code"] == "KHO008"
    assert step(PAPER, "finished").status_code == 422
    assert step("TTLTNA.K1.2", "planned").status_code == 200
    # done and verified leave the queue unless asked for
    assert [e["code"] for e in _queue(api)["items"]] == ["TTLTNA.K1.2", "TTLTNA.K1.3"]
    assert _queue(api, "?include_done=true")["total"] == 3
    # the digitisation import marks a planned hồ sơ and one outside the plan as digitised
    with khoso.catalog.session() as s:
        item = mark_digitised(s, "TTLTNA.K1.2", pages=11, objid="urn:TTLTNA:uuid-1")
        assert (item.state, item.pages, item.objid) == ("done", 11, "urn:TTLTNA:uuid-1")
    with khoso.catalog.session() as s:
        assert mark_digitised(s, "TTLTNA.K1.3", pages=7, objid="urn:TTLTNA:uuid-2").state == \
            "done"
    for code, kwargs, error in (
            ("TTLTNA.K1.2", {"pages": 11, "objid": "urn:x"}, Conflict),
            ("TTLTNA.K9.9", {"pages": 1, "objid": "urn:x"}, NotFound),
            ("TTLTNA.K1.3", {"pages": -1, "objid": "urn:x"}, ValidationFailed),
            ("TTLTNA.K1.3", {"pages": 1, "objid": ""}, ValidationFailed)):
        with pytest.raises(error) as caught, khoso.catalog.session() as s:
            mark_digitised(s, code, **kwargs)
        assert caught.value.code in ("KHO009", "KHO001", "KHO007")
    with khoso.catalog.session() as s:
        states = dict(s.execute(sa.select(DigitisationItem.objid, DigitisationItem.pages)
                                .order_by(DigitisationItem.id)).all())
        assert states == {None: 38, "urn:TTLTNA:uuid-1": 11, "urn:TTLTNA:uuid-2": 7}
        marks = s.scalars(sa.select(AuditEntry.object_id)
                          .where(AuditEntry.action == "digitisation.digitised")).all()
        assert marks == ["TTLTNA.K1.2", "TTLTNA.K1.3"]
    progress = _get(api, "/api/v1/digitisation-progress")
    assert progress.status_code == 200
    [fonds] = progress.json["items"]
    assert fonds["fonds"] == "P623" and fonds["units"] == 3 and fonds["pages"] == 57
    assert fonds["units_by_state"] == {"not_planned": 0, "planned": 0, "in_progress": 0,
                                       "done": 2, "verified": 1}
    assert fonds["pages_by_state"]["verified"] == 38 and fonds["pages_by_state"]["done"] == 18
    assert _get(api, "/api/v1/digitisation-progress?fonds=P999").json["items"] == []
