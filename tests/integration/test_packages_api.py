"""The package API shows critical AIPs to preservation officers; tokens and roles are enforced."""

from __future__ import annotations

import threading

from access_api.app import create_app
from access_api.services import build_storages
from preservation.accounts import create_user, issue_token
from storage.audit import run_audit
from tests.support.sips import make_sip


def token_for(khoso, username: str, role: str) -> str:
    with khoso.catalog.session() as s:
        user = create_user(s, username, "mật-khẩu", [role])
        return issue_token(s, user, "test").token


def test_critical_aips_are_listed_for_officers_only(khoso):
    outcome = khoso.ingest(make_sip(khoso.tmp / "sip"))
    assert outcome.accepted
    client = create_app(khoso.settings, khoso.catalog).test_client()
    officer = {"Authorization": f"Bearer {token_for(khoso, 'bao-quan', 'preservation_officer')}"}
    reader = {"Authorization": f"Bearer {token_for(khoso, 'doc-gia', 'reader')}"}
    assert client.get("/api/v1/packages").status_code == 401
    assert client.get("/api/v1/packages", headers={"Authorization": "Bearer sai"}
                      ).get_json()["code"] == "AUTH003"
    assert client.get("/api/v1/packages", headers=reader).status_code == 403
    bad = client.get("/api/v1/packages?critical=maybe", headers=officer)
    assert bad.status_code == 400 and bad.get_json()["code"] == "GEN004"
    assert client.get("/api/v1/packages?critical=true", headers=officer).get_json() == {
        "packages": []}
    for replica in ("replica1", "replica2"):
        next(khoso.replica(replica).rglob("tai-lieu-1.pdf")).write_bytes("mất".encode())
    run_audit(khoso.catalog, build_storages(khoso.settings), due_only=False, repair=True)
    listed = client.get("/api/v1/packages?critical=true", headers=officer).get_json()["packages"]
    assert [p["objid"] for p in listed] == [outcome.objid] and listed[0]["critical"]
    assert {c["last_check_result"] for c in listed[0]["copies"]} == {"mismatch"}
    one = client.get(f"/api/v1/packages/{outcome.objid}", headers=officer).get_json()
    assert [v["version"] for v in one["versions"]] == [1]
    assert client.get("/api/v1/packages/urn:P623:uuid-x", headers=officer).status_code == 404


def test_audit_and_ingest_at_the_same_time(khoso):
    assert khoso.ingest(make_sip(khoso.tmp / "first")).accepted
    storages = build_storages(khoso.settings)
    errors: list[BaseException] = []
    stop = threading.Event()

    def audit_loop() -> None:
        try:
            while not stop.is_set():
                report = run_audit(khoso.catalog, storages, due_only=False, repair=True)
                assert report.bad == 0 and not report.critical, report.to_dict()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    auditor = threading.Thread(target=audit_loop)
    auditor.start()
    try:
        outcomes = [khoso.ingest(make_sip(khoso.tmp / f"sip{i}", hoso={
            "fileCode": f"H49.64.33.2001.{170 + i}"})) for i in range(3)]
    finally:
        stop.set()
        auditor.join(60)
    assert not errors, errors
    assert all(o.accepted for o in outcomes), [o.report.to_dict() for o in outcomes]
    final = run_audit(khoso.catalog, storages, due_only=False)
    assert final.copies_checked == 8 and final.ok == 8
