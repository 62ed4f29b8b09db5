"""TT 05 SIPs without BagIt, end to end on the real catalog, clamd and replicas.

A vendor system zips (or hands over as a folder) the SIP tree itself: ``METS.xml``,
``metadata/``, ``representations/``, ``schemas/`` and no ``bagit.txt``. It is accepted like a
bag, the METS checksums and sizes being its fixity, and its AIP records how it arrived. A
package whose METS does not account for every file, or whose files disagree with it, is
refused with a code naming the file, and nothing is stored.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest
import sqlalchemy as sa

from ingest.bag import validate_bag
from preservation.catalog.models import Agency, Package, PremisEvent
from preservation.packaging.validate import validate_premis
from tests.support.cli import as_json, codes, run
from tests.support.hostile import (
    PDF,
    PNG,
    edit_rep1_mets,
    files_in,
    reject_case,
)
from tests.support.sips import ORGAN, make_sip

UNBAGGED = "TT 05 package without BagIt"


def sip_tree(bag: Path) -> Path:
    """The TT 05 SIP tree of a bag: its ``data/`` folder, with no BagIt file around it."""
    return bag / "data"


def zip_tree(tree: Path, dest: Path, *, top: str = "", drop: Iterable[str] = (),
             extra: Iterable[tuple[str, bytes]] = ()) -> Path:
    """``tree`` zipped as a vendor system would (no BagIt), optionally under one ``top`` folder;
    ``drop`` leaves files out, ``extra`` adds members (paths relative to the tree)."""
    left_out = set(drop)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(tree.rglob("*")):
            rel = path.relative_to(tree).as_posix()
            if path.is_file() and rel not in left_out:
                zf.write(path, top + rel)
        for rel, data in extra:
            zf.writestr(top + rel, data)
    return dest


def in_tree(bag_path: str) -> str:
    """A bag path of the hostile-test helpers (``data/…``) as a path in the SIP tree."""
    return bag_path.removeprefix("data/")


def events(khoso, package_id: int) -> list[PremisEvent]:
    with khoso.catalog.session() as s:
        return list(s.scalars(sa.select(PremisEvent).where(PremisEvent.package_id == package_id)))


@pytest.mark.parametrize("shape", ["zip", "zip under one folder", "folder", "tgz"])
def test_an_unbagged_sip_becomes_an_aip_that_records_how_it_arrived(khoso, shape):
    tree = sip_tree(make_sip(khoso.tmp / "sip"))
    assert not (tree / "bagit.txt").exists()
    if shape == "folder":
        source = Path(shutil.copytree(tree, khoso.tmp / "vendor-folder"))
    elif shape == "tgz":
        source = Path(shutil.make_archive(str(khoso.tmp / "vendor"), "gztar", tree))
    else:
        source = zip_tree(tree, khoso.tmp / "vendor.zip", top="goi-sip/" if "folder" in shape else "")
    outcome = khoso.ingest(source)
    assert outcome.accepted, outcome.report.to_dict()
    assert "BAG113" in outcome.report.codes() and not outcome.report.errors
    r1, r2 = files_in(khoso.replica("replica1")), files_in(khoso.replica("replica2"))
    prefix = "TTLTNA/P623/TTLTNA.H49.64.33.2001.160/v1/"
    assert r1 == r2 and f"{prefix}data/representations/rep1/data/tai-lieu-1.pdf" in r1
    aip = khoso.replica("replica1") / prefix
    assert validate_bag(aip).report.errors == []  # the AIP itself is a verified BagIt bag
    assert (aip / "data/representations/rep1/data/tai-lieu-2.png").read_bytes() == \
        (tree / in_tree(PNG)).read_bytes()
    premis = (aip / "data/metadata/preservation/PREMIS.xml").read_bytes()
    assert validate_premis(premis).ok
    text = premis.decode("utf-8")
    kind = {"folder": "dir", "tgz": "tgz"}.get(shape, "zip")
    assert f"submission form: {UNBAGGED} ({kind})" in text  # the creation event says how
    assert "fixity source: SHA-256 CHECKSUM and SIZE in METS.xml" in text
    found = events(khoso, outcome.package_id)
    creation = [e for e in found if e.event_type == "information package creation"]
    assert len(creation) == 1 and UNBAGGED in creation[0].detail
    # the BagIt profile did not run, so it is recorded as not performed, never as passed
    profile = [e for e in found if e.event_type == "validation" and "BagIt profile" in e.detail]
    assert [e.outcome for e in profile] == ["not_performed"]
    digests = [e for e in found if e.event_type == "message digest calculation"]
    assert len(digests) == 1 and "METS checksums" in digests[0].detail
    # no bag-info names the agency: the registered one that begins the fileCode does
    assert f"Ma-Dinh-Danh-Co-Quan: {ORGAN}\n" in (aip / "bag-info.txt").read_text("utf-8")
    with khoso.catalog.session() as s:
        pkg = s.get(Package, outcome.package_id)
        assert (pkg.kind, pkg.status, pkg.objid) == ("AIP", "active", outcome.objid)
        assert s.get(Agency, pkg.agency_id).organ_id == ORGAN


def test_a_bag_still_records_that_it_arrived_as_a_bag(khoso):
    outcome = khoso.ingest(make_sip(khoso.tmp / "sip"))
    assert outcome.accepted, outcome.report.to_dict()
    assert "BAG113" not in outcome.report.codes()
    creation = [e for e in events(khoso, outcome.package_id)
                if e.event_type == "information package creation"]
    assert "submission form: BagIt bag (dir)" in creation[0].detail


# --- hostile unbagged packages: refused with the file named, nothing stored -------------------

@pytest.fixture
def tree(khoso) -> Path:
    return sip_tree(make_sip(khoso.tmp / "hostile"))


def test_a_file_that_differs_from_its_mets_checksum_is_refused_in_the_read_pass(khoso, tree):
    pdf = tree / in_tree(PDF)
    data = bytearray(pdf.read_bytes())
    data[-8] ^= 0x01  # same size: only the digest can tell
    pdf.write_bytes(bytes(data))
    outcome = reject_case(khoso, zip_tree(tree, khoso.tmp / "tampered.zip"), {"METS007"},
                          "scan_viruses")
    bad = list(outcome.report.errors)
    assert [(i.code, i.path) for i in bad] == [("METS007", in_tree(PDF))]
    assert bad[0].params["actual"] == hashlib.sha256(bytes(data)).hexdigest().upper()


def test_a_file_without_a_mets_checksum_is_refused(khoso, tree):
    real = hashlib.sha256((tree / in_tree(PNG)).read_bytes()).hexdigest().upper()
    edit_rep1_mets(tree.parent, lambda text: text.replace(
        f' CHECKSUMTYPE="SHA-256" CHECKSUM="{real}"', ""))
    outcome = reject_case(khoso, zip_tree(tree, khoso.tmp / "no-checksum.zip"), {"METS008"},
                          "validate_bag")
    assert [i.code for i in outcome.report.errors] == ["METS008"]
    assert outcome.report.errors[0].params["href"] == "data/tai-lieu-2.png"


def test_an_md5_mets_checksum_is_refused(khoso, tree):
    png = (tree / in_tree(PNG)).read_bytes()
    sha, md5 = hashlib.sha256(png).hexdigest().upper(), hashlib.md5(png).hexdigest().upper()
    edit_rep1_mets(tree.parent, lambda text: text.replace(
        f'CHECKSUMTYPE="SHA-256" CHECKSUM="{sha}"', f'CHECKSUMTYPE="MD5" CHECKSUM="{md5}"'))
    outcome = reject_case(khoso, zip_tree(tree, khoso.tmp / "md5.zip"), {"METS008"},
                          "validate_bag")
    assert outcome.report.errors[0].params["algorithm"] == "MD5"


def test_a_file_the_mets_does_not_list_is_refused(khoso, tree):
    archive = zip_tree(tree, khoso.tmp / "extra.zip",
                       extra=[("representations/rep1/data/ghi-chu.txt", b"not in the METS"),
                              ("metadata/other/notes.txt", b"nor this")])
    outcome = reject_case(khoso, archive, {"BAG115"}, "validate_bag")
    assert sorted((i.code, i.path) for i in outcome.report.errors) == [
        ("BAG115", "metadata/other/notes.txt"),
        ("BAG115", "representations/rep1/data/ghi-chu.txt")]


def test_a_file_the_mets_lists_but_the_package_lacks_is_refused(khoso, tree):
    archive = zip_tree(tree, khoso.tmp / "missing.zip", drop=[in_tree(PNG)])
    outcome = reject_case(khoso, archive, {"METS005"}, "validate_bag")
    assert [(i.code, i.params["href"]) for i in outcome.report.errors] == [
        ("METS005", "data/tai-lieu-2.png")]


def test_a_size_that_disagrees_with_the_mets_is_refused_before_reading(khoso, tree):
    (tree / in_tree(PNG)).write_bytes((tree / in_tree(PNG)).read_bytes() + b"\x00")
    outcome = reject_case(khoso, zip_tree(tree, khoso.tmp / "size.zip"), {"METS006"},
                          "validate_bag")
    assert {i.code for i in outcome.report.errors} == {"METS006"}


def test_a_package_with_neither_bagit_nor_mets_is_refused(khoso, tree):
    archive = zip_tree(tree, khoso.tmp / "no-mets.zip", drop=["METS.xml"])
    outcome = reject_case(khoso, archive, {"BAG001", "BAG114"}, "validate_bag")
    assert {i.code for i in outcome.report.errors} == {"BAG001", "BAG114"}
    told = next(i for i in outcome.report.errors if i.code == "BAG114")
    assert "no-mets.zip" in told.message("en") and "METS.xml" in told.message("vi")
    # BAG001 names what was submitted, not the archive's own staging folder ("sip")
    first = next(i for i in outcome.report.errors if i.code == "BAG001")
    assert "no-mets.zip" in first.message("vi") and "no-mets.zip" in first.message("en")
    assert "gốc sip" not in first.message("vi") and "of sip" not in first.message("en")


def test_an_unparseable_root_mets_is_refused(khoso, tree):
    (tree / "METS.xml").write_bytes(re.sub(rb"</mets>\s*$", b"", (tree / "METS.xml").read_bytes()))
    outcome = reject_case(khoso, zip_tree(tree, khoso.tmp / "broken.zip"), {"XML001"},
                          "validate_bag")
    assert [(i.code, i.path) for i in outcome.report.errors] == [("XML001", "METS.xml")]


# --- khoso bag validate says which kind it saw ------------------------------------------------

def test_bag_validate_names_the_kind_it_saw(env, tmp_path):  # noqa: F811 - the CLI fixture
    bag = make_sip(tmp_path / "sip")
    archive = zip_tree(sip_tree(bag), tmp_path / "vendor.zip")
    for source, kind in ((archive, "gói TT 05 không có BagIt"), (bag, "túi BagIt")):
        result = run(env, "bag", "validate", str(source))
        assert result.exit_code == 0, result.output
        assert f"{source}: {kind}: hợp lệ (" in result.output
    result = run(env, "bag", "validate", str(archive), "--json")
    out = as_json(result)
    assert out["form"] == UNBAGGED and out["ok"] is True and out["files"] == 16
    assert codes(out) == {"BAG113"} and out["profile"] is None
    assert as_json(run(env, "bag", "validate", str(bag), "--json"))["form"] == "BagIt bag"
    (tmp_path / "neither").mkdir()
    result = run(env, "bag", "validate", str(tmp_path / "neither"))
    assert result.exit_code == 1 and "[BAG114]" in result.output
    assert f"{tmp_path / 'neither'}: không nhận ra: " in result.output


def test_bag_validate_verifies_the_mets_checksums_of_an_unbagged_package(env, tmp_path):  # noqa: F811
    tree = sip_tree(make_sip(tmp_path / "sip"))
    pdf = tree / in_tree(PDF)
    data = bytearray(pdf.read_bytes())
    data[-8] ^= 0x01
    pdf.write_bytes(bytes(data))
    result = run(env, "bag", "validate", str(zip_tree(tree, tmp_path / "t.zip")), "--json")
    assert result.exit_code == 1, result.output
    out = as_json(result)
    assert out["form"] == UNBAGGED and "METS007" in codes(out)


@pytest.mark.parametrize("shape", ["zip", "folder"])
def test_a_large_file_of_an_unbagged_sip_is_staged_and_verified_against_its_mets(khoso, shape):
    """A content file ≥ 8 MiB goes from the read pass straight to the replicas, as for a bag."""
    from tests.support.khoso import services_recording_staged
    from tests.support.sips import big_pdf

    data = big_pdf(9 * 2**20)
    tree = sip_tree(make_sip(khoso.tmp / "sip", contents={"tai-lieu-1.pdf": data}))
    source = (zip_tree(tree, khoso.tmp / "big.zip") if shape == "zip"
              else Path(shutil.copytree(tree, khoso.tmp / "big-folder")))
    staged: list[str] = []
    outcome = khoso.ingest(source, services=services_recording_staged(khoso, staged))
    assert outcome.accepted, outcome.report.to_dict()
    assert staged == [in_tree(PDF)]
    for name in ("replica1", "replica2"):
        copy = next(khoso.replica(name).rglob("tai-lieu-1.pdf"))
        assert hashlib.sha256(copy.read_bytes()).digest() == hashlib.sha256(data).digest()
