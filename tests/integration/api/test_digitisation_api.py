"""POST /api/v1/digitisations: a ZIP of a digitisation folder queued as a job, polled at
/api/v1/jobs/{id} until the AIP_hoso is stored; every refusal with its status and code, and a
refused request keeps nothing (no job, no staged body)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import sqlalchemy as sa

from preservation.catalog.models import Job, Package
from preservation.catalog.vocab import PackageKind
from tests.support.api_submissions import all_roles, client, run_queued
from tests.support.digitised import FILE_CODE, make_folder
from tests.support.sheets import FILE_CODE as HELD_CODE
from tests.support.sips import FOND, make_sip

URL = "/api/v1/digitisations"
SMALL = [["Biên bản bàn giao tài liệu lưu trữ"], ["Danh mục hồ sơ nộp lưu"]]


def zipped(folder: Path, top: str | None = "quet") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                rel = path.relative_to(folder).as_posix()
                z.write(path, f"{top}/{rel}" if top else rel)
    return buffer.getvalue()


def post(api, heads, body: bytes, role: str = "archivist", content_type: str = "application/zip",
         **query):
    query = {"hoso": FILE_CODE, "fond": FOND, **query}
    return api.post(URL, query_string=query, data=body,
                    headers={**heads[role], "Content-Type": content_type})


def staged(khoso) -> list[Path]:
    folder = khoso.settings.data_dir / "submissions"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_a_zip_is_digitised_into_an_aip_and_its_job_polled(khoso, tmp_path):
    api, heads = client(khoso), all_roles(khoso)
    body = zipped(make_folder(tmp_path / "quet", texts=SMALL))
    resp = post(api, heads, body, operator="Trần Văn Quét", scanner="Canon DR-G2140")
    assert resp.status_code == 202, resp.get_json()
    job = resp.get_json()["job"]
    assert resp.headers["Location"] == f"/api/v1/jobs/{job}"
    outcome = run_queued(khoso, job)
    assert outcome is not None and outcome.accepted, outcome.to_dict()
    shown = api.get(f"/api/v1/jobs/{job}", headers=heads["archivist"]).get_json()
    assert shown["state"] == "accepted" and shown["objid"] == outcome.objid
    with khoso.catalog.session() as s:
        assert s.get_one(Job, job).payload["digitise"]["scanner"] == "Canon DR-G2140"
    assert staged(khoso) == []  # the uploaded ZIP is gone once the job has its outcome


def test_refusals_keep_nothing(khoso, tmp_path):
    api, heads = client(khoso), all_roles(khoso)
    assert khoso.ingest(make_sip(tmp_path / "sip")).accepted
    body = zipped(make_folder(tmp_path / "quet", texts=SMALL))
    cases = [
        (post(api, heads, body, content_type="application/pdf"), 415, "API005"),
        (post(api, heads, b""), 400, "SUB004"),
        (post(api, heads, body, hoso="khong-phai-ma"), 422, "DIG103"),
        (post(api, heads, body, paper_code="khong"), 422, "DIG109"),
        (post(api, heads, body, fond="P999"), 422, "DIG113"),
        (post(api, heads, body, hoso=HELD_CODE), 409, "DIG112"),
        (post(api, heads, body, role="reader"), 403, "AUTH004"),
        (post(api, heads, body, role="agency_submitter"), 403, "AUTH004"),
        (post(api, heads, body, role="anonymous"), 401, "AUTH003"),
    ]
    for resp, status, code in cases:
        assert (resp.status_code, resp.get_json()["code"]) == (status, code), resp.get_json()
    missing = api.post(URL, query_string={"fond": FOND}, data=body,
                       headers={**heads["archivist"], "Content-Type": "application/zip"})
    assert missing.status_code == 422
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Job)) == 1  # the SIP's own
    assert staged(khoso) == []


def test_a_hostile_zip_is_refused_by_its_job_and_writes_nothing_outside(khoso, tmp_path):
    api, heads = client(khoso), all_roles(khoso)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("../../../../escaped.txt", "x")
        z.writestr("hoso.csv", "kind,fileCode\nhoso,H49.64.33.2001.161\n")
    resp = post(api, heads, buffer.getvalue())
    assert resp.status_code == 202
    outcome = run_queued(khoso, resp.get_json()["job"])
    assert outcome is not None and not outcome.accepted
    assert outcome.failed_step == "digitise"
    assert "PKG004" in {i.code for i in outcome.report.errors}
    assert not any(p.name == "escaped.txt" for p in tmp_path.parent.rglob("escaped.txt"))
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Package).where(
            Package.kind == PackageKind.AIP)) == 0
    shown = api.get(f"/api/v1/jobs/{outcome.job_id}", headers=heads["archivist"]).get_json()
    assert shown["state"] == "rejected" and "PKG004" in {i["code"] for i in shown["issues"]}
