"""Issue codes, one family per row: each declared code has the family's shape, is raised by the
family's code, renders in Vietnamese (with its diacritics) and English with the same parameters;
each code the family's code raises is declared.

A family is a file of ``preservation/data/issues`` and the sources that raise its codes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from ingest.adapters.clamd import ScanResult, ScanStatus
from preservation.issues import Issue, Severity, issue_catalog

ROOT = Path(__file__).resolve().parents[2]
VIETNAMESE = re.compile(r"[ăâđêôơưàảãạáằẳẵặắầẩẫậấèẻẽẹéềểễệếìỉĩịíòỏõọóồổỗộốờởỡợớùủũụúừửữựứỳỷỹỵý]")
PARAM = re.compile(r"{(\w+)}")


@cache
def _declared(file: str) -> dict[str, dict[str, str]]:
    path = ROOT / "preservation" / "data" / "issues" / f"{file}.json"
    loaded: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@dataclass(frozen=True)
class Family:
    file: str  # preservation/data/issues/<file>.json
    prefixes: str  # regex alternatives of the code prefixes
    sources: tuple[str, ...]  # globs under the repository root that raise its codes
    raised_elsewhere: str = ""  # prefixes raised outside ``sources`` (declared ⊄ used)
    own_language_params: frozenset[str] = frozenset()  # in one language's message only
    also: tuple[str, ...] = ()  # other files declaring codes of these prefixes (a branch's own)

    @property
    def shape(self) -> re.Pattern[str]:
        return re.compile(rf"(?:{self.prefixes})\d{{3}}")

    def declared(self) -> dict[str, dict[str, str]]:
        found = dict(_declared(self.file))
        for other in self.also:
            found.update({c: d for c, d in _declared(other).items() if self.shape.fullmatch(c)})
        return found

    def used(self) -> set[str]:
        quoted = re.compile(rf"""["']((?:{self.prefixes})\d{{3}})["']""")
        return {code for pattern in self.sources for path in ROOT.glob(pattern)
                for code in quoted.findall(path.read_text(encoding="utf-8"))}


FAMILIES = {
    # AV codes are reported by the scan step from ScanResult (test_scan_result_issues)
    "adapters": Family("adapters", "AV|FMT|SIG", ("ingest/adapters/*.py",), raised_elsewhere="AV",
                       own_language_params=frozenset({"reason", "reason_en"})),  # FMT005
    "metadata": Family("metadata", "XML|EAD|ID|DATE|RET", ("preservation/metadata/*.py",)),
    "packaging": Family("packaging", "METS|PREM|SIP", ("preservation/packaging/*.py",
                                                       "ingest/sip.py", "ingest/sip_build.py")),
    "accounts": Family("accounts", "ACC", ("preservation/accounts.py",
                                           "access_api/services/accounts.py",
                                           "access_api/api/auth.py", "access_api/api/accounts.py")),
    "submissions": Family("submissions", "SUB", ("access_api/services/submissions.py",
                                                  "access_api/services/uploads.py",
                                                  "access_api/services/jobs.py",
                                                  "access_api/api/submissions.py",
                                                  "ingest/steps/validate_sip.py")),
    "dissemination": Family("dissemination", "REQ|DIP", (
        "access_api/services/access_requests.py", "access_api/services/dips.py",
        "access_api/services/dip_scope.py",
        "preservation/packaging/dip/*.py")),
    "storage": Family("storage", "STO", ("storage/*.py",),
                      own_language_params=frozenset({"reason_vi", "reason_en"})),
    "migration": Family("migration", "MIG", ("ingest/adapters/migrate*.py",
                                             "access_api/services/migration.py",
                                             "preservation/packaging/aip/migrated_version.py")),
    "ops": Family("ops", "OPS|OAI", ("access_api/services/health.py",
                                     "access_api/services/metrics.py",
                                     "access_api/services/oai.py",
                                     "access_api/services/audit.py",
                                     "access_api/services/aips.py", "access_api/api/ops.py",
                                     "access_api/api/aips.py", "access_api/api/oai.py")),
    "delivery_blocks": Family("delivery_blocks", "DLV", ("access_api/services/stream.py",
                                                         "access_api/services/blocks.py")),
    "disposal": Family("disposal", "DES", ("access_api/services/disposal/*.py",
                                           "access_api/api/disposal.py",
                                           "access_api/cli/disposal.py")),
}
CODES = [(name, code) for name, family in FAMILIES.items() for code in sorted(family.declared())]


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_declared_codes_are_raised_and_raised_codes_declared(name: str) -> None:
    family = FAMILIES[name]
    declared, used = set(family.declared()), family.used()
    exempt = {c for c in declared if family.raised_elsewhere
              and re.match(rf"(?:{family.raised_elsewhere})\d", c)}
    assert declared - exempt - used == set(), "declared but never raised"
    assert used - declared == set(), "raised but not declared"


@pytest.mark.parametrize(("name", "code"), CODES)
def test_code_has_its_family_shape_and_both_languages(name: str, code: str) -> None:
    family = FAMILIES[name]
    assert family.shape.fullmatch(code)
    definition = issue_catalog()[code]
    assert VIETNAMESE.search(definition.vi.lower()), definition.vi
    assert definition.vi != definition.en
    vi = set(PARAM.findall(definition.vi)) - family.own_language_params
    en = set(PARAM.findall(definition.en)) - family.own_language_params
    assert vi == en


@pytest.mark.parametrize(("name", "code"), CODES)
def test_message_renders_every_parameter(name: str, code: str) -> None:
    definition = issue_catalog()[code]
    names = set(PARAM.findall(definition.vi)) | set(PARAM.findall(definition.en))
    issue = Issue(code, "a/b", {n: f"<{n}>" for n in names})
    vi, en = issue.message("vi"), issue.message("en")
    assert vi and en and "{" not in vi + en
    assert all(f"<{n}>" in vi + en for n in names - {"path", "file"})


def test_every_storage_code_is_an_error() -> None:
    assert {Issue(c).severity for c in FAMILIES["storage"].declared()} == {Severity.ERROR}


@pytest.mark.parametrize(("result", "codes"), [
    (ScanResult(ScanStatus.CLEAN), []),
    (ScanResult(ScanStatus.INFECTED, "Test.EICAR"), ["AV001"]),
    (ScanResult(ScanStatus.NOT_SCANNED, detail="clamd not reachable"), ["AV002"]),
    (ScanResult(ScanStatus.NOT_SCANNED, detail="clamd: INSTREAM size limit exceeded. ERROR"),
     ["AV003"]),
])
def test_scan_result_issues(result: ScanResult, codes: list[str]) -> None:
    issues = result.issues("data/a.pdf")
    assert [i.code for i in issues] == codes
    assert all(i.path == "data/a.pdf" for i in issues)
    if codes == ["AV001"]:
        assert "Test.EICAR" in issues[0].message("vi")
