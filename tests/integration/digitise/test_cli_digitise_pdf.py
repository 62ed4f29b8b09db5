"""``khoso digitise pdf`` on a khoso instance (its own key from ``khoso init``): output, exit
codes, the audit entry."""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from PIL import Image

from ingest.adapters.signatures import PdfSignatureVerifier
from preservation.catalog.db import Catalog
from preservation.catalog.models import AuditEntry
from preservation.signing import load_signer
from tests.support.cli import initialised, instance_env, run
from tests.support.pages import render_page

AGENCY = "Chi cục Văn thư - Lưu trữ tỉnh Hà Giang"


def test_digitise_pdf_writes_a_signed_pdf_a_prints_its_digest_and_audits_it(tmp_path, db_url):
    env = initialised(instance_env(tmp_path / "data", db_url))
    first, blank = tmp_path / "p1.png", tmp_path / "p2.png"
    render_page(first, 1, paragraphs=["Ủy ban nhân dân tỉnh Hà Giang"])
    Image.new("RGB", (1654, 2339), (255, 255, 255)).save(blank, dpi=(200, 200))
    out = tmp_path / "hs.pdf"

    result = run(env, "digitise", "pdf", str(first), str(blank), "--out", str(out),
                 "--agency-name", AGENCY, "--json")

    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert shown["sha256"] == digest and shown["pages"] == 2 and shown["puid"] == "fmt/477"
    assert shown["agencyName"] == AGENCY and shown["signedAt"].endswith("+07:00")
    assert [w["code"] for w in shown["warnings"]] == ["DIG050"]  # the blank page
    signer = load_signer(tmp_path / "data" / "keys")
    check = PdfSignatureVerifier([signer.certificate]).verify(out).checks[0]
    assert check.trusted and check.intact and check.covers_entire_file
    with Catalog(db_url).session() as s:
        entry = s.execute(sa.select(AuditEntry).where(AuditEntry.action == "digitise.pdf")
                          ).scalar_one()
    assert entry.actor == "cli" and entry.object_id == str(out.resolve())
    assert entry.detail["sha256"] == digest and entry.detail["pages"] == 2


def test_digitise_pdf_plain_output_and_refusals_with_their_exit_codes(tmp_path, db_url):
    env = initialised(instance_env(tmp_path / "data", db_url))
    good = tmp_path / "p1.png"
    render_page(good, 1, paragraphs=["Lưu trữ"])
    out = tmp_path / "a.pdf"

    done = run(env, "digitise", "pdf", str(good), "--out", str(out))
    assert done.exit_code == 0, done.output
    assert f"SHA-256 {hashlib.sha256(out.read_bytes()).hexdigest()}" in done.stdout
    assert "Đã số hóa 1 trang" in done.stdout and "nhận dạng chữ và PDF/A" in done.stdout

    again = run(env, "digitise", "pdf", str(good), "--out", str(out))
    assert again.exit_code == 2 and "DIG016" in again.stderr

    low = tmp_path / "low.png"
    render_page(low, 1, dpi=150, paragraphs=["Lưu trữ"])
    refused = run(env, "--lang", "en", "digitise", "pdf", str(low), "--out",
                  str(tmp_path / "b.pdf"))
    assert refused.exit_code == 1 and "DIG006" in refused.stderr and "150 dpi" in refused.stderr
    none = run(env, "digitise", "pdf", "--out", str(tmp_path / "c.pdf"))
    assert none.exit_code == 1 and "DIG001" in none.stderr
    assert not (tmp_path / "b.pdf").exists() and not (tmp_path / "c.pdf").exists()
    with Catalog(env["KHOSO_DATABASE_URL"]).session() as s:
        count = s.execute(sa.select(sa.func.count()).select_from(AuditEntry)
                          .where(AuditEntry.action == "digitise.pdf")).scalar_one()
    assert count == 1  # only the file that was made
