"""The public BagIt conformance suite (tests/data/bagit-conformance, see its SOURCE.md): with no
profile, khoso's validator gives every bag the verdict of the suite's folder, and the same verdict
as bagit-python except where bagit-python departs from RFC 8493 or the suite (listed with why)."""

from __future__ import annotations

import logging
import string
from pathlib import Path

import bagit
import pytest

from ingest.bag import validate_bag
from preservation.issues import Severity

SUITE = Path(__file__).resolve().parents[2] / "data" / "bagit-conformance"
BAGS = sorted(p for p in SUITE.glob("v*/*/*") if p.is_dir())

# folder -> (valid, at least one warning)
EXPECTED = {"valid": (True, False), "invalid": (False, False), "warning": (True, True),
            "linux-only": (False, False), "windows-only": (False, False)}

# Where bagit-python 1.9 (on Linux) gives another verdict than the suite, and why khoso follows
# the suite / RFC 8493.
BAGIT_PYTHON_DIFFERS = {
    "v0.97/warning/duplicate-file-with-different-case":
        "the manifest lists data/hello.txt and data/HELLO.txt, one file made on a case-insensitive "
        "disk; bagit-python looks HELLO.txt up case-sensitively and calls it missing",
    "v0.97/warning/same-filename-listed-twice-with-different-normalization":
        "the NFD entry names the NFC file; bagit-python opens the NFD name and reports a "
        "digest failure for a file it did not read",
    "v0.97/windows-only/out-of-scope-file-paths-using-absolute-path-for-fetch":
        "fetch.txt path C:\\... is not under data/ (RFC 8493 2.2.3); bagit-python checks "
        "Windows paths only on Windows",
    "v0.97/windows-only/out-of-scope-file-paths-using-shortcut-for-fetch":
        "fetch.txt path %HomeDrive%\\... is not under data/; bagit-python checks it only on Windows",
    "v0.97/windows-only/out-of-scope-file-paths-using-unc-for-fetch":
        "fetch.txt UNC path is not under data/; bagit-python checks it only on Windows",
    "v1.0/invalid/bagit-with-invalid-whitespace":
        "'BagIt-Version : 1.0' is not the exact 'BagIt-Version: M.N' line RFC 8493 2.1.1 "
        "requires; bagit-python strips the space",
}


def _name(bag: Path) -> str:
    return bag.relative_to(SUITE).as_posix()


def _bagit_python_valid(bag: Path) -> bool:
    logging.disable(logging.CRITICAL)
    try:
        bagit.Bag(str(bag)).validate()
    except bagit.BagError:
        return False
    finally:
        logging.disable(logging.NOTSET)
    return True


def test_the_suite_is_all_here() -> None:
    assert len(BAGS) == 60 and {b.parent.name for b in BAGS} == set(EXPECTED)
    assert {b.parts[-3] for b in BAGS} == {"v0.93", "v0.94", "v0.95", "v0.96", "v0.97", "v1.0"}


@pytest.mark.parametrize("bag", BAGS, ids=_name)
def test_verdict_matches_the_suite_and_bagit_python(bag: Path) -> None:
    valid, warned = EXPECTED[bag.parent.name]
    result = validate_bag(bag)
    issues = [i.to_dict() for i in result.report]
    assert result.is_valid() is valid, issues
    if warned:
        assert any(i.severity is Severity.WARNING for i in result.report), issues
    if _name(bag) in BAGIT_PYTHON_DIFFERS:
        assert _bagit_python_valid(bag) is not valid
    else:
        assert _bagit_python_valid(bag) is valid


@pytest.mark.parametrize("bag", BAGS, ids=_name)
def test_every_message_names_what_it_is_about(bag: Path) -> None:
    """No placeholder is left unfilled (rendered as '?'), e.g. BAG019 names its file."""
    for issue in validate_bag(bag).report:
        for template in (issue.definition.vi, issue.definition.en):
            fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
            assert fields <= set(issue.params) | {"path", "file"}, (issue.code, issue.params)
            if "file" in fields and "file" not in issue.params:
                assert issue.path, issue.code


def test_what_each_tolerance_reports() -> None:
    """The warning codes the suite's lenient cases produce, and what was read."""
    def codes(name: str) -> set[str]:
        return validate_bag(SUITE / name).report.codes()

    assert codes("v0.97/warning/made-with-md5sum-tools") == {"BAG011", "BAG104"}
    assert codes("v0.97/warning/relative-path") == {"BAG103"}
    assert codes("v0.97/warning/duplicate-file-with-different-case") == {"BAG109"}
    assert codes("v0.97/warning/same-filename-listed-twice-with-different-normalization") == {
        "BAG033"}
    assert codes("v0.97/warning/special-system-files") == {"BAG112"}
    assert codes("v1.0/invalid/same-filename-listed-twice-with-the-same-hash") >= {"BAG107"}
    latin = validate_bag(SUITE / "v0.97/valid/ISO-8859-1-encoded-tag-files")
    utf16 = validate_bag(SUITE / "v0.97/valid/UTF-16-encoded-tag-files")
    assert latin.encoding == "ISO-8859-1" and utf16.encoding == "UTF-16"
    assert latin.info == utf16.info and latin.info_value("Contact-Name") == "Chris Adams"
    assert "BAG106" in latin.report.codes() and "BAG106" in utf16.report.codes()
    seps = validate_bag(SUITE / "v0.97/valid/uncommon-metadata-separators")
    assert seps.info["Test-Tag"] == ("1", "2", "3", "4", "5") and seps.manifests == ("sha224",)
    old = validate_bag(SUITE / "v0.93/valid/basic-bag")  # package-info.txt before 0.96
    assert old.info_value("Payload-Oxum") == "25.5" and old.version == "0.93"
    holey = validate_bag(SUITE / "v0.97/valid/holey-bag")
    assert holey.complete and len(holey.fetch) == 5 and "BAG021" in holey.report.codes()
