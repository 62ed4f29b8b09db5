"""A file name holding ``%`` is listed percent-encoded in the AIP's manifests (RFC 8493 §2.1.3),
so that any conformant BagIt reader finds the file; AIPs written before this listed such names
as they are, and the rebuild still reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from access_api.bagcheck import check_bag
from ingest.sip_build import build_sip
from preservation.packaging.aip import bagit as aip_bagit
from tests.support.khoso import Khoso
from tests.support.pki import minimal_pdf
from tests.support.sheets import HOSO, write_csv
from tests.support.sips import FOND, ORGAN, document_rows, png

PREFIX = "TTLTNA/P623/TTLTNA.H49.64.33.2001.160/v1"
NAME = "Tỷ lệ 100%25 hoàn thành.pdf"  # decoded once by a reader, it would name another file


def percent_sip(folder: Path) -> Path:
    src = folder / "src"
    src.mkdir(parents=True)
    rows = document_rows(2)
    rows[0]["file"] = NAME.replace("%", "%25")  # the sheet names files by URI reference
    for row, name in zip(rows, [NAME, *(r["file"] for r in rows[1:])], strict=True):
        (src / name).write_bytes(minimal_pdf(row.get("subject", name))
                                 if name.endswith(".pdf") else png())
    sheet = write_csv(folder / "sheet.csv", [dict(HOSO, totalDoc="2"), *rows])
    return build_sip(src, sheet, folder / "bag", organ_id=ORGAN,
                     agency_name="UBND huyện Nghi Lộc", fond_code=FOND)


def test_an_aip_with_a_percent_in_a_name_is_a_valid_rfc_8493_bag(khoso: Khoso) -> None:
    outcome = khoso.ingest(percent_sip(khoso.tmp / "sip"))
    assert outcome.accepted, outcome.report.to_dict()
    aip = khoso.replica("replica1") / PREFIX
    assert any(p.name == NAME for p in aip.rglob("*.pdf"))
    manifest = (aip / "manifest-sha256.txt").read_text("utf-8")
    assert "100%2525 hoàn thành.pdf" in manifest
    # RFC 8493 reading (bagit-python 1.8 decodes only %0A and %0D, not %25: it is not the judge)
    report, summary = check_bag(aip, None)
    assert report.ok and summary["complete"], report.to_dict()


@pytest.mark.parametrize("written", ["encoded", "as is (before 2026-12-07)"])
def test_the_aip_manifest_reader_takes_both_forms(written: str) -> None:
    paths = {f"data/{NAME}", "data/plain.pdf"}
    text = aip_bagit.manifest([(p, "ab" * 32) for p in sorted(paths)],
                              encode=written == "encoded")
    assert set(aip_bagit.parse_aip_manifest(text, paths.__contains__)) == paths
