"""``khoso repository`` and ``khoso queue`` on a real catalog (SQLite and PostgreSQL): what
the API made is what the commands print; refusals exit 1 or 2 with their code."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from preservation.catalog.models import PaperLoan
from tests.support.catalog_api import make_api
from tests.support.cli import cli_env, run
from tests.support.paper_repository import PAPER, TODAY
from tests.support.paper_repository import paper as _paper
from tests.support.paper_repository import post as _post


def test_repository_and_queue_commands(khoso):
    env = cli_env(khoso)
    added = run(env, "repository", "add", "K1", "--name", "Kho số 1", "--area", "120")
    assert added.exit_code == 0, added.output
    assert "K1" in added.output
    again = run(env, "repository", "add", "K1", "--name", "Kho", "--area", "5")
    assert again.exit_code == 2 and "KHO002" in again.stderr
    negative = run(env, "repository", "add", "K2", "--name", "Kho", "--area", "-5")
    assert negative.exit_code == 1 and "KHO006" in negative.stderr
    assert "--area" in negative.stderr or "area_m2" in negative.stderr
    api = make_api(khoso)
    assert _post(api, "/api/v1/repositories/K1/shelves", {"code": "G2"}).status_code == 201
    assert _post(api, "/api/v1/repositories/K1/boxes",
                 {"shelf": "G2", "code": "H3", "capacity": 3}).status_code == 201
    assert _paper(api, condition="damaged").status_code == 201
    assert _post(api, "/api/v1/repositories/K1/equipment", {
        "kind": "dehumidifier", "label": "Máy hút ẩm", "condition": "good",
        "next_service_on": str(TODAY - dt.timedelta(days=2))}).status_code == 201
    loan = _post(api, f"/api/v1/paper-files/{PAPER}/check-out", {"borrower": "An",
                                                                 "purpose": "Tra cứu"})
    with khoso.catalog.session() as s:
        s.execute(sa.update(PaperLoan).where(PaperLoan.id == loan.json["id"])
                  .values(due_on=TODAY - dt.timedelta(days=1)))
    listed = json.loads(run(env, "repository", "list", "--json").stdout)
    assert [(r["code"], r["boxes"], r["files"], r["equipment"]) for r in listed] == [
        ("K1", 1, 1, 1)]
    overdue = json.loads(run(env, "repository", "overdue", "--json").stdout)
    assert [e["label"] for e in overdue["equipment"]] == ["Máy hút ẩm"]
    assert [(x["code"], x["borrower"]) for x in overdue["loans"]] == [(PAPER, "An")]
    english = run(env, "--lang", "en", "repository", "overdue")
    assert "Equipment overdue for service: 1" in english.stdout
    queued = json.loads(run(env, "queue", "list", "--json").stdout)
    assert [(q["code"], q["score"]["total"]) for q in queued] == [(PAPER, 40 + 5 + 30)]
    progress = json.loads(run(env, "queue", "progress", "--json").stdout)
    assert progress[0]["units_by_state"]["not_planned"] == 1
