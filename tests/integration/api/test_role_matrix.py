"""The role matrix: every endpoint called as every role and as anonymous, each answer checked
against the status written down for it (``matrix_*.py`` beside this file, one per area: rows of
``(method, path, {role: status}[, request kwargs])``). A second test fails when an endpoint of
the app has no row, so a new endpoint cannot ship without its permissions written down.

Paths may name the records of the SIP ingested first: ``{objid}``, ``{file_code}``,
``{doc_code}``, ``{fond_code}``."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from access_api.app import create_app
from access_api.services.base import UserRole
from preservation.accounts import create_user, issue_token
from preservation.catalog.models import Agency, Document, RecordFile, User
from tests.support.sips import FOND, ORGAN, make_sip

ROLES = ("anonymous", "admin", "archivist", "agency_submitter", "preservation_officer", "reader")
HERE = Path(__file__).parent
UNDOCUMENTED = {"static", "openapi.spec", "openapi.docs", "openapi.redoc",
                "openapi.swagger_ui_oauth_redirect"}


def matrix_rows() -> list[tuple[str, str, dict[str, int], dict[str, Any]]]:
    rows = []
    for module in sorted(HERE.glob("matrix_*.py")):
        for row in importlib.import_module(f"tests.integration.api.{module.stem}").ROWS:
            method, path, expected, *rest = row
            rows.append((method, path, expected, rest[0] if rest else {}))
    return rows


@pytest.fixture
def world(khoso, tmp_path):
    outcome = khoso.ingest(make_sip(tmp_path / "sip"))
    assert outcome.accepted
    tokens: dict[str, str | None] = {"anonymous": None}
    with khoso.catalog.session() as s:
        agency = s.query(Agency).filter_by(organ_id=ORGAN).one()
        for role in ROLES[1:]:
            name = UserRole.AGENCY_SUBMITTER.value if role == "agency_submitter" else role
            user = create_user(s, f"u-{role}", "Mật-khẩu-đủ-dài-2026", [name])
            if role == "agency_submitter":
                s.get(User, user.id).agency_id = agency.id
            tokens[role] = issue_token(s, user, "matrix").token
        record = s.query(RecordFile).order_by(RecordFile.id).first()
        document = s.query(Document).order_by(Document.id).first()
        names = {"objid": outcome.objid, "file_code": record.file_code,
                 "doc_code": document.doc_code, "fond_code": FOND}
    return create_app(khoso.settings, khoso.catalog), tokens, names


def test_every_endpoint_answers_every_role_as_written(world):
    app, tokens, names = world
    client = app.test_client()
    wrong = []
    rows = matrix_rows()
    assert rows, "no matrix rows"
    for method, path, expected, kwargs in rows:
        assert set(expected) == set(ROLES), f"{method} {path}: roles {sorted(expected)}"
        url = path.format(**names)
        for role in ROLES:
            headers = dict(kwargs.get("headers", {}))
            if tokens[role]:
                headers["Authorization"] = f"Bearer {tokens[role]}"
            resp = client.open(url, method=method, headers=headers,
                               **{k: v for k, v in kwargs.items() if k != "headers"})
            if resp.status_code != expected[role]:
                wrong.append(f"{method} {url} as {role}: {resp.status_code}, "
                             f"expected {expected[role]} {resp.get_data(as_text=True)[:200]}")
    assert not wrong, "\n".join(wrong)


def test_every_endpoint_has_its_row(world):
    app, _, names = world
    adapter = app.url_map.bind("localhost")
    covered = set()
    for method, path, _, _ in matrix_rows():
        endpoint, _ = adapter.match(path.format(**names).split("?")[0], method=method)
        covered.add((endpoint, method))
    missing = sorted(
        f"{method} {rule.rule}" for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
        if (rule.endpoint, method) not in covered and rule.endpoint not in UNDOCUMENTED)
    assert not missing, missing
