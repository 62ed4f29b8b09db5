"""bagit-profiles 1.4 checks against the TT 05 submission profile, the AIP profile and variants."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from ingest.bag import validate_bag
from ingest.profile import validate_profile
from profiles import PROFILE_DIR, load_profile
from tests.support.bags import SIP_FILES, SIP_INFO, make_bag, make_sip

SIP = load_profile("sip-tt05")


def prf(bag: Path, profile: dict[str, Any] | None = None, kind: str = "dir") -> set[str]:
    return validate_profile(bag, profile or SIP, kind=kind).codes()  # type: ignore[arg-type]


def variant(**changes: Any) -> dict[str, Any]:
    profile = copy.deepcopy(SIP)
    for key, value in changes.items():
        profile[key.replace("_", "-").replace("Fetch-txt", "Fetch.txt")] = value
    return profile


def test_profiles_load_and_are_listed() -> None:
    assert {p.stem for p in PROFILE_DIR.glob("*.json")} >= {"sip-tt05", "aip-khoso"}
    assert load_profile("sip-tt05.json") == SIP
    with pytest.raises(ValueError):
        load_profile("../setup")
    with pytest.raises(FileNotFoundError):
        load_profile("nope")


@pytest.mark.parametrize("kind", ["dir", "zip", "tar", "tgz"])
def test_valid_sip_passes(tmp_path: Path, kind: str) -> None:
    bag = make_sip(tmp_path / "bag")
    report = validate_bag(bag)
    assert report.is_valid() and report.report.codes() == set()
    assert validate_profile(report, SIP, kind=kind).codes() == set()  # type: ignore[arg-type]


def test_missing_required_bag_info_field(tmp_path: Path) -> None:
    info = {k: v for k, v in SIP_INFO.items() if k != "Ma-Dinh-Danh-Co-Quan"}
    bag = make_bag(tmp_path / "bag", SIP_FILES, info=info)
    report = validate_profile(bag, SIP)
    assert report.codes() == {"PRF004"}
    assert report.issues[0].params["label"] == "Ma-Dinh-Danh-Co-Quan"
    assert "Ma-Dinh-Danh-Co-Quan" in report.issues[0].message("vi")


def test_empty_required_value_counts_as_missing(tmp_path: Path) -> None:
    assert prf(make_sip(tmp_path / "bag", **{"Source-Organization": " "})) == {"PRF004"}


def test_package_type_values(tmp_path: Path) -> None:
    assert prf(make_sip(tmp_path / "bag", **{"Package-Type": "AIP_hoso"})) == {"PRF005"}


def test_profile_identifier_missing_or_wrong(tmp_path: Path) -> None:
    info = {k: v for k, v in SIP_INFO.items() if k != "BagIt-Profile-Identifier"}
    assert prf(make_bag(tmp_path / "a", SIP_FILES, info=info)) == {"PRF002"}
    assert prf(make_sip(tmp_path / "b", **{"BagIt-Profile-Identifier": "urn:other"})) == {"PRF003"}


def test_repeated_non_repeatable(tmp_path: Path) -> None:
    bag = make_sip(tmp_path / "bag")
    with open(bag / "bag-info.txt", "a") as f:
        f.write("Package-Type: SIP_tailieu\n")
    assert prf(bag) == {"PRF006"}


def test_no_bag_info(tmp_path: Path) -> None:
    bag = make_sip(tmp_path / "bag")
    (bag / "bag-info.txt").unlink()
    assert prf(bag) == {"PRF022"}


def test_md5_manifest_alone_is_not_enough(tmp_path: Path) -> None:
    bag = make_bag(tmp_path / "bag", SIP_FILES, algs=("md5",), info=SIP_INFO)
    assert prf(bag) == {"PRF023", "PRF024"}
    assert prf(bag, variant(Manifests_Allowed=["sha256"], Tag_Manifests_Allowed=["sha256"])) == {
        "PRF008", "PRF010", "PRF023", "PRF024"}


@pytest.mark.parametrize("algs", [("md5", "sha256"), ("sha1", "sha512")])
def test_a_weak_manifest_beside_a_strong_one_is_accepted(tmp_path: Path, algs: tuple[str, ...]
                                                         ) -> None:
    """As Bagger and older bagit-java and bagit-python write them: the weak one is checked too
    (and warned by the RFC validator); the strong one is what the archive relies on."""
    bag = make_bag(tmp_path / "bag", SIP_FILES, algs=algs, info=SIP_INFO)
    assert prf(bag) == set()
    assert validate_bag(bag).report.codes() == {"BAG011"}


@pytest.mark.parametrize("version", ["0.96", "0.95", "0.93"])
def test_older_bagit_versions_are_accepted(tmp_path: Path, version: str) -> None:
    """BagIt 0.93 to 0.95 named bag-info.txt package-info.txt: the profile reads it there."""
    bag = make_sip(tmp_path / "bag")
    (bag / "bagit.txt").write_text(f"BagIt-Version: {version}\nTag-File-Character-Encoding: UTF-8\n")
    if version < "0.96":
        (bag / "bag-info.txt").rename(bag / "package-info.txt")
    for manifest in bag.glob("tagmanifest-*.txt"):
        manifest.unlink()
    assert prf(bag) == {"PRF024"}  # the profile's own demand for a tag manifest, nothing else
    if version < "0.96":
        (bag / "package-info.txt").rename(bag / "bag-info.txt")
        assert prf(bag) == {"PRF022", "PRF024"}  # a bag-info.txt there is not its bag-info


def test_sha512_only_is_accepted(tmp_path: Path) -> None:
    assert prf(make_bag(tmp_path / "bag", SIP_FILES, algs=("sha512",), info=SIP_INFO)) == set()


def test_without_tag_manifest(tmp_path: Path) -> None:
    bag = make_sip(tmp_path / "bag")
    (bag / "tagmanifest-sha256.txt").unlink()
    assert prf(bag) == {"PRF024"}


def test_fetch_txt_not_allowed(tmp_path: Path) -> None:
    bag = make_sip(tmp_path / "bag")
    (bag / "fetch.txt").write_text("https://example.org/a 1 data/a\n")
    assert prf(bag) == {"PRF013"}
    assert prf(make_sip(tmp_path / "b"), variant(Fetch_txt_Required=True)) == {"PRF014"}


def test_required_payload_file(tmp_path: Path) -> None:
    files = {k: v for k, v in SIP_FILES.items() if k != "METS.xml"}
    report = validate_profile(make_bag(tmp_path / "bag", files, info=SIP_INFO), SIP)
    assert report.codes() == {"PRF019"} and report.issues[0].path == "data/METS.xml"


def test_payload_folder_requirement_and_allowed_globs(tmp_path: Path) -> None:
    bag = make_sip(tmp_path / "bag")
    ok = variant(Payload_Files_Required=["data/representations/rep1/"],
                 Payload_Files_Allowed=["data/*.xml", "data/representations/*"])
    assert prf(bag, ok) == set()
    assert prf(bag, variant(Payload_Files_Allowed=["data/*.xml"])) == {"PRF020"}


def test_tag_files_required_and_allowed(tmp_path: Path) -> None:
    bag = make_sip(tmp_path / "bag")
    assert prf(bag, variant(Tag_Files_Required=["khoso/signature.p7s"])) == {"PRF011"}
    (bag / "notes.txt").write_text("x")
    assert prf(bag, variant(Tag_Files_Allowed=["khoso/*"])) == {"PRF012"}
    assert prf(bag, variant(Tag_Files_Allowed=["*.txt"])) == set()


def test_required_and_allowed_manifests(tmp_path: Path) -> None:
    bag = make_sip(tmp_path / "bag")
    assert prf(bag, variant(Manifests_Required=["sha512"], Tag_Manifests_Required=["sha512"])
               ) == {"PRF007", "PRF009"}


def test_data_empty(tmp_path: Path) -> None:
    assert prf(make_sip(tmp_path / "bag"), variant(Data_Empty=True)) == {"PRF021"}


def test_serialization(tmp_path: Path) -> None:
    bag = make_sip(tmp_path / "bag")
    assert prf(bag, variant(Serialization="required")) == {"PRF016"}
    assert prf(bag, variant(Serialization="forbidden"), kind="zip") == {"PRF015"}
    assert prf(bag, variant(Accept_Serialization=["application/zip"]), kind="tgz") == {"PRF017"}
    assert prf(bag, variant(Accept_Serialization=["application/tar"]), kind="tar") == set()


def test_bagit_version_not_accepted(tmp_path: Path) -> None:
    assert prf(make_sip(tmp_path / "bag"), variant(Accept_BagIt_Version=["1.0"])) == {"PRF018"}


def test_broken_profile(tmp_path: Path) -> None:
    bag = make_sip(tmp_path / "bag")
    assert prf(bag, {"Bag-Info": {}}) == {"PRF001"}
    broken = variant(Accept_BagIt_Version=[], Serialization="sometimes")
    del broken["BagIt-Profile-Info"]["Version"]
    report = validate_profile(bag, broken)
    assert report.codes() == {"PRF001"} and len(report) == 3


def test_unreadable_bag_gives_only_bag_issues(tmp_path: Path) -> None:
    (tmp_path / "bag").mkdir()
    assert prf(tmp_path / "bag", kind="zip") == set()


def test_aip_profile(tmp_path: Path) -> None:
    aip = load_profile("aip-khoso")
    files = {**SIP_FILES, "metadata/preservation/PREMIS.xml": b"<premis/>"}
    info = {"BagIt-Profile-Identifier": aip["BagIt-Profile-Info"]["BagIt-Profile-Identifier"],
            "Source-Organization": "Trung tâm Lưu trữ quốc gia III", "Package-Type": "AIP_hoso",
            "External-Identifier": "urn:uuid:9C13E70E-08B2-4C54-8BAF-979B35D01B4D"}
    bag = make_bag(tmp_path / "aip", files, algs=("sha256",), info=info)
    assert prf(bag, aip) == set()
    assert prf(make_sip(tmp_path / "sip"), aip) == {"PRF003", "PRF005", "PRF019"}
    assert prf(bag, aip, kind="tgz") == {"PRF017"}


def _retag(bag: Path, encoding: str = "utf-8") -> None:
    import hashlib
    names = sorted(p.name for p in bag.glob("*.txt") if not p.name.startswith("tagmanifest"))
    text = "".join(f"{hashlib.sha256((bag / n).read_bytes()).hexdigest()}  {n}\n" for n in names)
    (bag / "tagmanifest-sha256.txt").write_bytes(text.encode(encoding))


def test_sip_tag_files_must_be_utf8(tmp_path: Path) -> None:
    """The RFC validator reads UTF-16 tag files; the submission agreement stays UTF-8."""
    bag = make_sip(tmp_path / "bag")
    (bag / "bagit.txt").write_text("BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-16\n")
    for name in ("bag-info.txt", "manifest-sha256.txt"):
        (bag / name).write_bytes((bag / name).read_text(encoding="utf-8").encode("utf-16"))
    _retag(bag, "utf-16")
    assert validate_bag(bag).report.codes() == {"BAG106"}
    assert prf(bag) == {"PRF094"}
    assert prf(bag, variant(Khoso_Tag_File_Character_Encoding=["utf-8", "utf_16"])) == set()
    assert prf(bag, variant(Khoso_Tag_File_Character_Encoding=["KOI-9"])) == {"PRF001"}
    assert prf(bag, variant(Khoso_Tag_File_Character_Encoding="UTF-8")) == {"PRF001"}


def test_sip_names_equal_after_nfc_are_refused(tmp_path: Path) -> None:
    import unicodedata
    name = "representations/rep1/data/Hồ sơ.pdf"
    files = {**SIP_FILES, unicodedata.normalize("NFD", name): b"other"}
    bag = make_bag(tmp_path / "bag", files, info=SIP_INFO)
    assert validate_bag(bag).is_valid()  # RFC 8493: two files, a warning
    assert prf(bag) == {"PRF095"}
    assert prf(bag, variant(Khoso_Allow_Normalisation_Duplicates=True)) == set()


def test_an_incomplete_bag_never_passes_a_profile(tmp_path: Path) -> None:
    bag = make_sip(tmp_path / "bag")
    target = "data/metadata/descriptive/EAD.xml"
    (bag / "fetch.txt").write_text(f"https://example.invalid/EAD.xml 6 {target}\n")
    (bag / target).unlink()
    _retag(bag)
    assert validate_bag(bag).report.ok
    assert prf(bag) == {"PRF013", "PRF019"}  # fetch.txt refused outright
    assert prf(bag, variant(Allow_Fetch_txt=True)) == {"PRF096", "PRF019"}
