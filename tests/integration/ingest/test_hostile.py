"""Hostile submissions, end to end on the real catalog, clamd and replicas.

Every case must be rejected with its stable code(s) at the expected step, leave nothing in AIP
storage and nothing registered but the rejected-SIP record, keep the submission with its
report.json in quarantine, and leave the service able to ingest the next, valid SIP.

Archives are built by hand with ``zipfile``/``tarfile`` so that members the ordinary tools
would refuse to write (``..``, absolute paths, links, bad names, bombs) can be crafted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import io
import json
import os
import socket
import stat
import subprocess
import tarfile
import tempfile
import time
import unicodedata
import uuid
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization as ser

from preservation.catalog.models import Package
from tests.support import pki
from tests.support.hostile import (
    HO_SO,
    PDF,
    PNG,
    REP1,
    algorithms_of,
    assert_rejected,
    assert_still_ingests,
    bag_members,
    digest_of,
    edit_rep1_mets,
    files_in,
    files_of,
    reject_case,
    remanifest,
    retag,
    set_oxum,
    tar_bag,
    tar_file,
    tar_link,
    with_doctype,
    zip_bag,
)
from tests.support.khoso import Khoso
from tests.support.sips import big_pdf, make_sip
from tests.support.viruses import EICAR


@pytest.fixture
def bag(khoso) -> Path:
    """A fresh, valid SIP bag (folder) for the case to spoil."""
    return make_sip(khoso.tmp / "hostile")


def escape_target() -> Path:
    """A path in /tmp no test should ever create: where a traversal would land."""
    return Path("/tmp") / f"khoso-escape-{uuid.uuid4().hex}.txt"


# --- archive members --------------------------------------------------------------------------

def test_zip_member_with_dot_dot_is_refused(khoso, bag):
    target = escape_target()
    member = "../" * 16 + target.relative_to("/").as_posix()
    archive = zip_bag(bag, khoso.tmp / "dotdot.zip", [(member, b"escaped")])
    reject_case(khoso, archive, {"PKG004"}, "unpack_safely")
    assert not target.exists()


def test_zip_member_with_absolute_path_is_refused(khoso, bag):
    target = escape_target()
    archive = zip_bag(bag, khoso.tmp / "absolute.zip", [(zipfile.ZipInfo(str(target)), b"x")])
    with zipfile.ZipFile(archive) as zf:  # zipfile must not have "fixed" the name for us
        assert str(target) in zf.namelist()
    reject_case(khoso, archive, {"PKG003"}, "unpack_safely")
    assert not target.exists()


def test_tar_symlink_member_is_refused(khoso, bag):
    link = tar_link(f"bag/{REP1}/data/passwd.pdf", "/etc/passwd", tarfile.SYMTYPE)
    archive = tar_bag(bag, khoso.tmp / "symlink.tar", [link])
    reject_case(khoso, archive, {"PKG006"}, "unpack_safely")


def test_tar_hard_link_member_is_refused(khoso, bag):
    link = tar_link(f"bag/{REP1}/data/passwd.pdf", "/etc/passwd", tarfile.LNKTYPE)
    archive = tar_bag(bag, khoso.tmp / "hardlink.tar", [link])
    reject_case(khoso, archive, {"PKG007"}, "unpack_safely")


def test_zip_bomb_is_refused_by_the_ratio_limit(khoso, bag):
    # The unpack limits are not settings (UnpackLimits() defaults are used by the ingest), so the
    # bomb beats the default ratio: 256 MiB of zeros deflate to ~250 KiB (~1000:1 > 200:1).
    bomb = zipfile.ZipInfo(f"bag/{REP1}/data/bomb.pdf")
    archive = zip_bag(bag, khoso.tmp / "bomb.zip", [(bomb, bytes(256 << 20))])
    assert archive.stat().st_size < 1 << 20
    started = time.monotonic()
    reject_case(khoso, archive, {"PKG011"}, "unpack_safely")
    assert time.monotonic() - started < 60


def test_tar_gz_bomb_is_refused_by_the_stream_ratio(khoso, bag):
    archive = khoso.tmp / "bomb.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        info, data = tar_file("bag/data/zeros.bin", bytes(128 << 20))
        tf.addfile(info, io.BytesIO(data))
        for name, path in bag_members(bag):
            tf.add(path, arcname=name)
    assert archive.stat().st_size < 1 << 20
    reject_case(khoso, archive, {"PKG011"}, "unpack_safely")


def test_tar_names_equal_after_nfc_are_refused(khoso, bag):
    nfc, nfd = (unicodedata.normalize(form, HO_SO) for form in ("NFC", "NFD"))
    assert nfc != nfd
    pdf = pki.minimal_pdf()
    archive = tar_bag(bag, khoso.tmp / "nfc.tar", [tar_file(f"bag/{REP1}/data/{nfc}", pdf),
                                                  tar_file(f"bag/{REP1}/data/{nfd}", pdf)])
    outcome = reject_case(khoso, archive, {"PKG015"}, "unpack_safely")
    assert "PKG027" in outcome.report.codes()  # the NFD name is also warned as not NFC


def test_tar_name_that_is_not_utf8_is_refused(khoso, bag):
    bad = f"bag/{REP1}/data/t\udce0i-lieu.pdf"  # raw byte 0xE0 followed by 'i': invalid UTF-8
    archive = tar_bag(bag, khoso.tmp / "latin.tar", [tar_file(bad, pki.minimal_pdf())],
                      fmt=tarfile.GNU_FORMAT)
    with tarfile.open(archive, encoding="latin-1") as tf:  # the raw byte really is in the header
        assert any(m.name.endswith("t\xe0i-lieu.pdf") for m in tf)
    reject_case(khoso, archive, {"PKG014"}, "unpack_safely")


@pytest.fixture(scope="module")
def many_files_zip(tmp_path_factory) -> Path:
    """A ZIP with 100,001 empty members (~12 MB)."""
    path = tmp_path_factory.mktemp("many") / "many.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("bag/bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
        for i in range(100_000):
            zf.writestr(f"bag/data/f{i:06d}.txt", b"")
    return path


def test_zip_with_100001_members_is_refused_by_the_file_count_limit_quickly(khoso,
                                                                            many_files_zip):
    khoso.settings = dataclasses.replace(khoso.settings, max_files=100_000)  # KHOSO_MAX_FILES
    started = time.monotonic()
    outcome = khoso.ingest(many_files_zip)
    elapsed = time.monotonic() - started
    assert_rejected(khoso, outcome, {"PKG010"}, "unpack_safely")
    assert elapsed < 30, f"took {elapsed:.1f}s: the count must be read before any member"
    assert_still_ingests(khoso)


# --- bag structure ----------------------------------------------------------------------------

def test_manifest_entry_outside_data_is_refused(khoso, bag):
    manifest = bag / "manifest-sha256.txt"
    with manifest.open("a", encoding="utf-8") as f:
        f.write(f"{digest_of(bag / 'bagit.txt', 'sha256')}  bagit.txt\n")
    retag(bag)
    reject_case(khoso, bag, {"BAG013"}, "validate_bag")


def test_fetch_txt_is_refused_by_the_profile(khoso, bag):
    size = (bag / PNG).stat().st_size
    (bag / "fetch.txt").write_text(f"https://example.org/tai-lieu-2.png {size} {PNG}\n",
                                   encoding="utf-8")
    retag(bag)
    outcome = reject_case(khoso, bag, {"BAG021", "PRF013"}, "validate_profile")
    assert {i.code for i in outcome.report.errors} == {"PRF013"}  # BAG021 is only a warning


def test_a_holey_sip_is_refused_by_the_profile_and_nothing_is_fetched(khoso, bag):
    """The RFC validator calls it valid but incomplete (BAG111, no BAG017); the SIP profile
    refuses fetch.txt, and the absent file is never fetched."""
    size = (bag / PNG).stat().st_size
    (bag / PNG).unlink()
    (bag / "fetch.txt").write_text(f"https://example.invalid/tai-lieu-2.png {size} {PNG}\n",
                                   encoding="utf-8")
    retag(bag)
    outcome = reject_case(khoso, bag, {"BAG021", "BAG111", "PRF013"}, "validate_profile")
    assert {i.code for i in outcome.report.errors} == {"PRF013"}
    assert not (bag / PNG).exists()


def test_utf16_tag_files_are_refused_by_the_profile(khoso, bag):
    """RFC 8493 lets bagit.txt declare UTF-16; the submission agreement accepts UTF-8 only."""
    (bag / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-16\n",
                                   encoding="utf-8")
    for rel in files_of(bag, payload=False):
        if rel != "bagit.txt" and not rel.startswith("tagmanifest-"):
            (bag / rel).write_bytes((bag / rel).read_text(encoding="utf-8").encode("utf-16"))
    for alg in algorithms_of(bag, "tagmanifest"):
        tags = [r for r in files_of(bag, payload=False) if not r.startswith("tagmanifest-")]
        lines = "".join(f"{digest_of(bag / rel, alg)}  {rel}\n" for rel in tags)
        (bag / f"tagmanifest-{alg}.txt").write_bytes(lines.encode("utf-16"))
    outcome = reject_case(khoso, bag, {"BAG106", "PRF094"}, "validate_profile")
    assert {i.code for i in outcome.report.errors} == {"PRF094"}


def test_bagit_0_96_with_an_md5_manifest_beside_sha256_is_accepted(khoso, bag):
    """As older BagIt tools made them: the version and the weak manifest are read, not refused."""
    (bag / "bagit.txt").write_text("BagIt-Version: 0.96\nTag-File-Character-Encoding: UTF-8\n",
                                   encoding="utf-8")
    (bag / "manifest-md5.txt").write_text("".join(
        f"{digest_of(bag / rel, 'md5')}  {rel}\n" for rel in files_of(bag, payload=True)))
    retag(bag)
    outcome = khoso.ingest(bag)
    assert outcome.accepted, outcome.report.to_dict()
    assert "BAG011" in outcome.report.codes()


def test_a_wrong_md5_digest_beside_a_right_sha256_one_is_refused(khoso, bag):
    """The weak manifest is checked like the others: a mismatch is a damaged file."""
    (bag / "manifest-md5.txt").write_text("".join(
        f"{'0' * 32 if rel.endswith('.png') else digest_of(bag / rel, 'md5')}  {rel}\n"
        for rel in files_of(bag, payload=True)))
    retag(bag)
    outcome = reject_case(khoso, bag, {"BAG011", "BAG019"}, "scan_viruses")
    assert [i.params["algorithm"] for i in outcome.report if i.code == "BAG019"] == ["md5"]


def test_missing_payload_file_is_refused(khoso, bag):
    (bag / PNG).unlink()  # still listed in the manifest
    set_oxum(bag)  # keep the Oxum honest so the missing file is the only problem
    retag(bag)
    outcome = reject_case(khoso, bag, {"BAG017"}, "validate_bag")
    assert {i.code for i in outcome.report.errors} == {"BAG017"}


def test_extra_payload_file_is_refused(khoso, bag):
    (bag / REP1 / "data" / "extra.pdf").write_bytes(pki.minimal_pdf("not in the manifest"))
    set_oxum(bag)
    retag(bag)
    outcome = reject_case(khoso, bag, {"BAG018"}, "validate_bag")
    assert {i.code for i in outcome.report.errors} == {"BAG018"}


def test_payload_oxum_lie_is_refused(khoso, bag):
    set_oxum(bag, "1.1")
    retag(bag)
    outcome = reject_case(khoso, bag, {"BAG008"}, "validate_bag")
    assert {i.code for i in outcome.report.errors} == {"BAG008"}


def test_duplicate_manifest_lines_with_different_digests_are_refused(khoso, bag):
    with (bag / "manifest-sha256.txt").open("a", encoding="utf-8") as f:
        f.write(f"{'0' * 64}  {PDF}\n")
    retag(bag)
    reject_case(khoso, bag, {"BAG016"}, "validate_bag")


# --- hostile XML ------------------------------------------------------------------------------

@pytest.mark.parametrize("doctype, reference", [
    ('<!DOCTYPE mets [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;"),
    ('<!DOCTYPE mets SYSTEM "file:///etc/passwd">', ""),
], ids=["external-entity", "external-dtd"])
def test_xxe_in_the_rep1_mets_is_refused_and_nothing_is_read(khoso, bag, doctype, reference):
    edit_rep1_mets(bag, with_doctype(doctype, reference))
    outcome = reject_case(khoso, bag, {"XML002"}, "validate_sip")
    assert any(i.code == "XML002" and "representations/rep1/METS.xml" in i.path
               for i in outcome.report.issues)
    # The refused METS cannot name the fonds either (ING001); nothing else is wrong.
    assert {i.code for i in outcome.report.errors} == {"XML002", "ING001"}
    assert "root:" not in (outcome.quarantine / "report.json").read_text(encoding="utf-8")


def test_billion_laughs_in_the_rep1_mets_is_refused(khoso, bag):
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    doctype = "<!DOCTYPE mets [\n" + "\n".join(entities) + "\n]>"
    edit_rep1_mets(bag, with_doctype(doctype, "&lol9;"))
    started = time.monotonic()
    outcome = reject_case(khoso, bag, {"XML002"}, "validate_sip")
    assert time.monotonic() - started < 60
    assert {i.code for i in outcome.report.errors} == {"XML002", "ING001"}


def test_mets_checksum_that_lies_about_a_file_is_refused(khoso, bag):
    real = digest_of(bag / PDF, "sha256").upper()
    edit_rep1_mets(bag, lambda text: text.replace(f'CHECKSUM="{real}"', f'CHECKSUM="{"A" * 64}"'))
    outcome = reject_case(khoso, bag, {"METS007"}, "validate_sip")
    assert [i.code for i in outcome.report.errors] == ["METS007"]
    assert any(i.code == "METS007" and "tai-lieu-1.pdf" in str(i.params.get("href"))
               for i in outcome.report.issues)


# --- malware ----------------------------------------------------------------------------------

def test_eicar_in_the_payload_is_refused(khoso):
    bag = make_sip(khoso.tmp / "hostile", contents={"tai-lieu-2.png": EICAR})
    reject_case(khoso, bag, {"AV001"}, "scan_viruses")


def nested_zip(name: str, data: bytes) -> bytes:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr("word/embeddings/attachment.zip", inner.getvalue())
    return outer.getvalue()


def test_eicar_inside_a_zip_inside_a_zip_payload_file_is_refused(khoso):
    # The payload is a ZIP (OOXML-like) holding a ZIP holding EICAR; clamd unpacks both levels.
    # The scan comes before format identification, so the file's real format (a ZIP named .png)
    # never reaches the policy: no FMT code can be reported, only AV001.
    bag = make_sip(khoso.tmp / "hostile",
                   contents={"tai-lieu-2.png": nested_zip("readme.com", EICAR)})
    outcome = reject_case(khoso, bag, {"AV001"}, "scan_viruses")
    assert not {c for c in outcome.report.codes() if c.startswith("FMT")}


def test_eicar_in_a_tag_file_never_reaches_aip_storage(khoso, bag):
    # Product behaviour: only payload (data/) files are scanned; a tag file outside data/ is
    # not, and the SIP is ACCEPTED. The safety property that holds is that tag files are not
    # carried into the AIP, so the malware is never stored. (Reported as a gap, not a bug.)
    (bag / "notes.txt").write_bytes(EICAR)
    retag(bag)
    outcome = khoso.ingest(bag)
    assert outcome.accepted, outcome.report.to_dict()
    for replica in ("replica1", "replica2"):
        stored = files_in(khoso.replica(replica))
        assert stored and not [f for f in stored if f.endswith("notes.txt")]
        assert all(EICAR not in (khoso.replica(replica) / f).read_bytes() for f in stored)


# --- signatures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pkis():
    root, root_key = pki.make_root("Khoso Hostile Test Root")
    other, other_key = pki.make_root("Untrusted Other Root")
    signer, signer_key = pki.make_signer("Nguyễn Văn An", root, root_key)
    stranger, stranger_key = pki.make_signer("Lê Văn Cường", other, other_key)
    expired, expired_key = pki.make_signer(
        "Trần Thị Bình", root, root_key, not_before=pki.NOW - dt.timedelta(days=800),
        not_after=pki.NOW - dt.timedelta(days=30))
    return dict(root=root, other=other, good=(signer, signer_key, root),
                stranger=(stranger, stranger_key, other), expired=(expired, expired_key, root))


@pytest.fixture
def trusted(khoso, pkis) -> None:
    """The archive trusts the test root (and only it), as build_services reads it."""
    folder = Path(khoso.settings.trust_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test-root.pem").write_bytes(pkis["root"].public_bytes(ser.Encoding.PEM))


def signed_pdf(pkis, who: str = "good") -> bytes:
    return pki.sign_pdf(pki.minimal_pdf("Hello khoso"), *pkis[who])


def sip_with_pdf(khoso: Khoso, pdf: bytes) -> Path:
    return make_sip(khoso.tmp / "hostile", contents={"tai-lieu-1.pdf": pdf})


def test_a_good_signature_is_accepted(khoso, trusted, pkis):
    """Control for the signature cases: the same PDF, untouched, passes."""
    outcome = khoso.ingest(sip_with_pdf(khoso, signed_pdf(pkis)))
    assert outcome.accepted, outcome.report.to_dict()
    assert not {c for c in outcome.report.codes() if c.startswith("SIG")}


def test_tampered_signed_pdf_is_refused(khoso, trusted, pkis):
    pdf = signed_pdf(pkis)
    i = pdf.index(b"Hello khoso")
    reject_case(khoso, sip_with_pdf(khoso, pdf[:i] + b"J" + pdf[i + 1:]), {"SIG003"},
                "verify_signatures")


def test_bytes_appended_after_the_signature_are_refused(khoso, trusted, pkis):
    pdf = signed_pdf(pkis) + b"\n% appended after signing\n"
    reject_case(khoso, sip_with_pdf(khoso, pdf), {"SIG005"}, "verify_signatures")


def test_untrusted_signer_is_refused(khoso, trusted, pkis):
    reject_case(khoso, sip_with_pdf(khoso, signed_pdf(pkis, "stranger")), {"SIG004"},
                "verify_signatures")


def test_expired_signing_certificate_is_accepted_with_a_warning(khoso, trusted, pkis):
    # Product behaviour: SIG006 is a warning, so a PDF signed with a certificate that has since
    # expired (intact, trusted chain) is ACCEPTED; the warning is kept in the report and the
    # signature event. It is not a rejection, so the rejection checks do not apply here.
    outcome = khoso.ingest(sip_with_pdf(khoso, signed_pdf(pkis, "expired")))
    assert outcome.accepted, outcome.report.to_dict()
    assert "SIG006" in outcome.report.codes()
    assert not {i.code for i in outcome.report.errors}
    assert files_in(khoso.replica("replica1")) == files_in(khoso.replica("replica2")) != []


# --- found while writing these tests ----------------------------------------------------------

def test_a_file_matched_by_its_bytes_is_not_reported_as_extension_only(khoso):
    outcome = khoso.ingest(make_sip(khoso.tmp / "plain"))
    assert outcome.accepted, outcome.report.to_dict()
    assert "FMT008" not in outcome.report.codes()


# --- issue #12: OS errors are coded, quarantine never crashes, paths fit storage keys ----------

def _special(path: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":  # /dev/null's numbers: harmless even where it is read
        try:
            os.mknod(path, stat.S_IFCHR | 0o644, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("mknod needs CAP_MKNOD")
    else:  # bound at a short path (AF_UNIX allows ~108 bytes), then moved into the bag
        short = Path(tempfile.mkdtemp(dir=path.parent.anchor + "tmp")) / "s"
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(short))  # the socket file stays after close
        os.rename(short, path)
        short.parent.rmdir()


@pytest.mark.parametrize("kind", ["fifo", "socket", "device"])
def test_special_file_in_a_folder_sip_is_rejected_and_quarantined(khoso, bag, kind):
    # Before: shutil.copytree in quarantine() raised on the FIFO/socket, so the rejection had
    # no report.json and no record.
    _special(bag / REP1 / "data" / "special", kind)
    outcome = reject_case(khoso, bag, {"PKG008"}, "unpack_safely")
    kept = outcome.quarantine / bag.name
    assert (kept / PDF).read_bytes() == (bag / PDF).read_bytes()  # the rest is kept
    assert not (kept / REP1 / "data" / "special").exists()  # never opened, never copied
    saved = json.loads((outcome.quarantine / "report.json").read_text(encoding="utf-8"))
    assert {"code": "PKG081", "path": f"{REP1}/data/special"}.items() <= {
        k: v for i in saved["issues"] if i["code"] == "PKG081" for k, v in i.items()}.items()


class _Then:
    """A step that runs ``action`` on the submission once the bag is validated: what a
    submitter (or a sync job) does to the folder while the ingest is under way."""

    def __init__(self, action) -> None:
        self.action = action

    def __call__(self, ctx):
        from ingest.context import StepResult
        from preservation.issues import Report

        self.action()
        return StepResult.of(Report())


def _ingest_with(khoso: Khoso, source: Path, action):
    from access_api.services import build_services
    from ingest import pipeline
    from ingest.context import IngestContext, Step
    from ingest.jobs import create_job

    at = [s.name for s in pipeline.STEPS].index("validate_profile") + 1
    steps = (*pipeline.STEPS[:at], Step("meddle", "validation", _Then(action)),
             *pipeline.STEPS[at:])
    job = create_job(khoso.catalog, source, "tester")
    ctx = IngestContext(khoso.settings, build_services(khoso.settings), source,
                        khoso.settings.data_dir / "staging" / job, job, catalog=khoso.catalog)
    return pipeline.run_ingest(ctx, khoso.catalog, steps)


def test_a_file_vanishing_mid_ingest_is_a_coded_rejection(khoso, bag):
    # Before: FileNotFoundError from the read pass escaped run_ingest: no report, no record.
    outcome = _ingest_with(khoso, bag, (bag / PNG).unlink)
    assert_rejected(khoso, outcome, {"PKG078"}, "scan_viruses")
    issue = next(i for i in outcome.report.errors if i.code == "PKG078")
    assert issue.path == PNG and "ENOENT" in issue.params["reason"]
    assert_still_ingests(khoso)


def test_a_file_swapped_for_a_fifo_mid_ingest_does_not_block_the_read_pass(khoso, bag):
    def swap() -> None:
        (bag / PNG).unlink()
        os.mkfifo(bag / PNG)

    started = time.monotonic()
    outcome = _ingest_with(khoso, bag, swap)
    assert time.monotonic() - started < 120
    assert_rejected(khoso, outcome, {"PKG078"}, "scan_viruses")


def _tiny_fs(folder: Path):
    """``folder`` on a 256 KiB tmpfs: a real ENOSPC (needs root to mount)."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
                          capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture
def full_staging(khoso):
    yield from _tiny_fs(khoso.settings.data_dir / "staging")


@pytest.fixture
def full_quarantine(khoso):
    yield from _tiny_fs(khoso.settings.data_dir / "quarantine")


def test_quarantine_that_fills_its_disk_still_writes_the_report(khoso, full_quarantine):
    # Before: shutil.copytree raised ENOSPC out of quarantine(): no report.json, no record.
    bag = make_sip(khoso.tmp / "big", contents={"tai-lieu-1.pdf": big_pdf(1 << 20)})
    os.mkfifo(bag / REP1 / "data" / "pipe")
    outcome = khoso.ingest(bag)
    assert_rejected(khoso, outcome, {"PKG008"}, "unpack_safely")
    saved = json.loads((outcome.quarantine / "report.json").read_text(encoding="utf-8"))
    assert any(i["code"] == "PKG081" and "ENOSPC" in i["params"]["reason"]
               for i in saved["issues"])


@pytest.mark.parametrize("form", ["zip", "folder"])
def test_no_space_in_staging_is_a_system_error_not_a_rejection(khoso, full_staging, form):
    from ingest.errors import StagingError
    from preservation.catalog.models import Job

    bag = make_sip(khoso.tmp / "big", contents={"tai-lieu-1.pdf": big_pdf(1 << 20)})
    source = zip_bag(bag, khoso.tmp / "big.zip") if form == "zip" else bag
    with pytest.raises(StagingError) as err:
        khoso.ingest(source)
    assert err.value.code == "ING055" and err.value.transient
    assert "ENOSPC" in err.value.issue.params["reason"]
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Package)) == 0  # no rejection
        assert [j.status for j in s.scalars(sa.select(Job))] == ["queued"]  # to be retried
    assert not (khoso.settings.data_dir / "quarantine").exists()
    assert list(full_staging.iterdir()) == []  # what was written is gone
    assert files_in(khoso.replica("replica1")) == []


def _deep(bag: Path, total: int) -> str:
    """Add a payload file whose bag path is ``total`` bytes (folders of at most 200 bytes)."""
    head, leaf = f"{REP1}/data/", "x.pdf"
    budget, parts = total - len(head) - len(leaf), []
    while budget > 0:
        parts.append("d" * min(200, budget - 1))
        budget -= len(parts[-1]) + 1
    rel = head + "".join(p + "/" for p in parts) + leaf
    assert len(rel.encode()) == total and all(parts)
    (bag / rel).parent.mkdir(parents=True)
    (bag / rel).write_bytes(pki.minimal_pdf("deep"))
    remanifest(bag)
    return rel


def test_a_payload_path_too_long_for_a_storage_key_is_refused_at_unpack(khoso, bag):
    # Under 1024 bytes (the old unpack limit) but over 1024 once under the AIP key prefix
    # "TTLTNA/<fonds>/<arcFileCode>/v1/": before, unpack passed it and the store failed.
    rel = _deep(bag, 1000)
    assert len(rel.encode()) <= 1024
    outcome = reject_case(khoso, bag, {"PKG079"}, "unpack_safely")
    issue = next(i for i in outcome.report.errors if i.code == "PKG079")
    assert issue.path == rel and issue.params["max_key"] == 1024


def test_a_payload_name_with_the_storage_reserved_prefix_is_refused_at_unpack(khoso, bag):
    (bag / REP1 / "data" / ".khoso-tmp-1.pdf").write_bytes(pki.minimal_pdf("reserved"))
    remanifest(bag)
    reject_case(khoso, bag, {"PKG080"}, "unpack_safely")


@pytest.mark.parametrize("gz", [True, False], ids=["tar.gz", "tar"])
def test_gnu_sparse_bomb_is_refused_before_it_fills_staging(khoso, bag, gz):
    # ~40 KB that extracted to 160 MB (a GNU sparse member: holes are not in the archive).
    from tests.support.bags import gnu_sparse_member

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, path in bag_members(bag):
            tf.add(path, arcname=name)
        body = raw.getvalue()[:tf.offset]
    data = body + gnu_sparse_member(f"bag/{REP1}/data/sparse.pdf", 160 << 20) + bytes(1024)
    archive = khoso.tmp / ("sparse.tar.gz" if gz else "sparse.tar")
    archive.write_bytes(gzip.compress(data) if gz else data)
    reject_case(khoso, archive, {"PKG077"}, "unpack_safely")


def test_zip_of_many_small_compressed_members_is_refused_by_the_archive_ratio(khoso, bag):
    # 300 members of 512 KiB of zeros (each under the 1 MiB per-member floor): 150 MiB from
    # a few hundred KB, which the per-member ratio never checked.
    extra = [(f"bag/{REP1}/data/z{i:03}.bin", bytes(512 << 10)) for i in range(300)]
    archive = zip_bag(bag, khoso.tmp / "small-bombs.zip", extra)
    assert archive.stat().st_size < 1 << 20
    reject_case(khoso, archive, {"PKG077"}, "unpack_safely")


def test_a_tar_with_a_second_tar_appended_is_refused_not_half_read(khoso, bag):
    # `cat bag.tar more.tar`: tarfile stops at the first end-of-archive marker, so the payload
    # file in the second archive was silently dropped and the bag without it accepted.
    archive = tar_bag(bag, khoso.tmp / "first.tar")
    more = tar_bag(bag, khoso.tmp / "more.tar")  # any members after the marker
    archive.write_bytes(archive.read_bytes() + more.read_bytes())
    outcome = reject_case(khoso, archive, {"PKG002"}, "unpack_safely")
    assert "end-of-archive" in json.dumps(outcome.report.to_dict())


def test_a_zip_made_by_macos_finder_is_accepted_without_its_macosx_folder(khoso, bag):
    # Finder's "Compress" adds __MACOSX/ (AppleDouble resource forks) beside the bag folder.
    archive = zip_bag(bag, khoso.tmp / "finder.zip",
                      [("__MACOSX/bag/._bagit.txt", b"\0\5\x16\7\0\2\0\0Mac OS X"),
                       (f"__MACOSX/bag/{REP1}/data/._tai-lieu-1.pdf", b"\0\5\x16\7")])
    outcome = khoso.ingest(archive)
    assert outcome.accepted, outcome.report.to_dict()
    assert "PKG082" in outcome.report.codes()
    stored = files_in(khoso.replica("replica1"))
    assert stored and not any("__MACOSX" in str(p) or "/._" in str(p) for p in stored)


def test_a_manifest_with_spaces_after_its_paths_is_accepted_with_a_warning(khoso, bag):
    # Read liberally: every file was "missing" and "not listed" at once (BAG017 + BAG018).
    manifest = bag / "manifest-sha256.txt"
    manifest.write_bytes(manifest.read_bytes().replace(b"\n", b" \r\n"))
    retag(bag)
    outcome = khoso.ingest(bag)
    assert outcome.accepted, outcome.report.to_dict()
    assert "BAG117" in outcome.report.codes()
