"""Validation problems as data: ``Issue(code, path, message)`` collected in a ``Report``.

Every code is declared once in ``preservation/data/issues/*.json`` with a severity, the clause
it enforces and a Vietnamese and an English message template; codes are never reused. Tests
assert the exact set of codes a bad input produces, so messages can improve without breaking
callers.

The clause tells an operator why khoso refuses something: a rule of TT 05/2025/TT-BNV or of
another legal text, an RFC 8493 section, an E-ARK CSIP requirement id, a schema — or, where no
external text asks for the check, the name of khoso's own policy (``KhosoPolicy``), never an
invented article. ``CLAUSE_FORM`` is every shape a clause may take.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from functools import cache
from importlib import resources
from typing import Any

from preservation.events import Outcome


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class KhosoPolicy(StrEnum):
    """khoso's own rules, cited as ``khoso: <value>`` where no external text asks for a check."""

    UNPACK_SAFETY = "an toàn giải nén"  # archive bombs, links, corrupt or encrypted members
    PATH_SAFETY = "an toàn đường dẫn"  # traversal, links and special files, storage keys
    XML_SAFETY = "an toàn XML"  # no DOCTYPE/entities, bounded size
    PORTABLE_NAMES = "tên tệp đa nền tảng"  # UTF-8, Unicode NFC and letter-case clashes
    WRITE_ONCE = "lưu trữ ghi một lần"  # stored objects are never overwritten or deleted early
    STORAGE_CONTRACT = "giao diện lưu trữ"  # what a storage location accepts (keys, ranges)
    OPERATIONS = "vận hành hệ thống"  # configuration, database, workers, clamd, disks
    INPUT = "kiểm tra đầu vào"  # parameters and references an operator gives
    AIP_SIGNATURE = "chữ ký gói AIP"  # the archive signs each AIP's tag manifest
    AIP_VERSIONS = "phiên bản AIP"  # corrections make a new version, never edit one
    SUBMISSION_AGREEMENT = "thỏa thuận nộp lưu"  # Khoso-* keys of the BagIt profile
    SIP_SHEET = "bảng kê sip build"  # the sheet format of ``khoso sip build``
    UNBAGGED = "gói không túi BagIt"  # a TT 05 package without BagIt: its METS is its manifest
    ACCOUNT_SECURITY = "an toàn tài khoản"  # passwords, tokens, sessions, failed logins
    HTTP_API = "giao diện HTTP"  # requests to the API: paths, methods, bodies, sizes
    DISPOSAL = "hủy tài liệu"  # appraisal, legal holds, destruction cases and their order
    TRANSFER = "nộp lưu"  # transfers to the historical archive between khoso instances
    PAPER_REPOSITORY = "kho tài liệu giấy"  # repositories, shelves, boxes, paper check-out
    REPORTS = "báo cáo và sổ sách"  # report names, parameters and output formats
    DIGITISATION = "số hóa"  # page images, OCR, PDF/A and the digitising archive's signature
    METADATA_EXTRACTION = "bóc tách thông tin"  # fields proposed from OCR text
    FORMAT_MIGRATION = "chuyển đổi định dạng"  # preservation actions on held formats


_NOTE = r"(?: \([^()]+\))?"
_SECTIONS = r"§\d+(?:\.\d+)*(?:, §\d+(?:\.\d+)*)*"
_CITATION = "|".join((
    rf"RFC \d{{3,5}}(?: {_SECTIONS})?",
    r"BagIt Profiles 1\.4\.0 «[A-Za-z.-]+»",
    r"TT 05/2025/TT-BNV (?:Điều \d+(?: khoản \d+(?: điểm [a-zđ])?)?"
    r"|Phụ lục [IVX]+(?:–[IVX]+)?|Chương [IVX]+)" + _NOTE,
    r"TT 10/2022/TT-BNV",
    r"TT 06/2025/TT-BNV(?: Điều \d+(?: khoản \d+)?)?" + _NOTE,
    r"Luật Lưu trữ 2024 Điều \d+(?: khoản \d+(?: điểm [a-zđ])?)?" + _NOTE,
    r"NĐ (?:30/2020|113/2025)/NĐ-CP (?:Điều \d+(?: khoản \d+)?|Phụ lục [IVX]+)",
    r"QĐ 20/2020/QĐ-TTg",
    r"E-ARK CSIP(?: CSIP(?:STR)?\d+)?" + _NOTE,
    r"METS 1\.12" + _NOTE,
    r"PREMIS 3\.0" + _NOTE,
    rf"W3C XML 1\.0 {_SECTIONS}",
    "khoso: (?:" + "|".join(re.escape(p.value) for p in KhosoPolicy) + ")",
))
CLAUSE_FORM = re.compile(rf"(?:{_CITATION})(?:; (?:{_CITATION}))*")
"""A clause: one or more citations joined by ``"; "``."""


@dataclass(frozen=True)
class IssueDefinition:
    code: str
    severity: Severity
    vi: str
    en: str
    clause: str = ""
    """What the check enforces (see the module docstring); empty only in a code not yet cited."""


@cache
def issue_catalog() -> Mapping[str, IssueDefinition]:
    """All declared issue codes, merged from every JSON file; a duplicate code is a bug."""
    catalog: dict[str, IssueDefinition] = {}
    folder = resources.files("preservation") / "data" / "issues"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        for code, spec in json.loads(entry.read_text(encoding="utf-8")).items():
            if code in catalog:
                raise RuntimeError(f"issue code {code} declared twice ({entry.name})")
            catalog[code] = IssueDefinition(code, Severity(spec["severity"]), spec["vi"], spec["en"],
                                            spec.get("clause", ""))
    return catalog


@dataclass(frozen=True)
class Text:
    """A parameter said in both languages (a reason the code can put in words), so that
    neither message carries the other language or a Python exception's text."""

    vi: str
    en: str

    def label(self, lang: str) -> str:
        return self.vi if lang == "vi" else self.en

    def __str__(self) -> str:
        return self.vi


class Noun(StrEnum):
    """What a "not found" / "already exists" message (GEN002, GEN003) is about."""

    AGENCY = "agency"
    FONDS = "fonds"
    USER = "user"
    JOB = "job"
    PACKAGE = "package"
    AIP = "aip"
    RECORD = "record"
    DOCUMENT = "document"
    FILE = "file"
    TOKEN = "token"
    UPLOAD = "upload"
    ACCESS_REQUEST = "access_request"
    DIP = "dip"

    def label(self, lang: str) -> str:
        vi, en = _NOUNS[self]
        return vi if lang == "vi" else en


# Vietnamese nouns in lower case (they follow a verb); English ones open the sentence.
_NOUNS = {Noun.AGENCY: ("cơ quan", "Agency"), Noun.FONDS: ("phông", "Fonds"),
          Noun.USER: ("tài khoản", "User"), Noun.JOB: ("công việc", "Job"),
          Noun.PACKAGE: ("gói", "Package"), Noun.AIP: ("gói lưu trữ (AIP)", "AIP"),
          Noun.RECORD: ("hồ sơ", "Record"), Noun.DOCUMENT: ("tài liệu", "Document"),
          Noun.FILE: ("tệp", "File"), Noun.TOKEN: ("mã truy cập", "Token"),
          Noun.UPLOAD: ("phiên tải lên", "Upload"),
          Noun.ACCESS_REQUEST: ("yêu cầu khai thác", "Access request"),
          Noun.DIP: ("gói thông tin khai thác (DIP)", "DIP")}


def _render(template: str, params: Mapping[str, Any], lang: str) -> str:
    names = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    values = {n: params.get(n, "?") for n in names}
    return template.format(**{n: v.label(lang) if isinstance(v, (Text, Noun)) else v
                              for n, v in values.items()})


@dataclass(frozen=True)
class Issue:
    """One problem found in an input. ``path`` says where (a file, an XPath, a field name)."""

    code: str
    path: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in issue_catalog():
            raise KeyError(f"undeclared issue code {self.code}")

    @property
    def definition(self) -> IssueDefinition:
        return issue_catalog()[self.code]

    @property
    def severity(self) -> Severity:
        return self.definition.severity

    def message(self, lang: str = "vi") -> str:
        """The message in ``lang``; ``{path}`` and ``{file}`` in a template default to the issue's
        path, so a caller that gives only the path never renders ``'?'``."""
        d = self.definition
        return _render(d.vi if lang == "vi" else d.en,
                       {"path": self.path, "file": self.path, **self.params}, lang)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "path": self.path,
            "message": self.message("vi"),
            "message_en": self.message("en"),
            "params": {k: str(v) for k, v in self.params.items()},
        }


@dataclass
class Report:
    """Issues collected over a whole check; problems are gathered, never raised one by one."""

    issues: list[Issue] = field(default_factory=list)

    def add(self, code: str, path: str = "", **params: Any) -> Issue:
        issue = Issue(code, path, params)
        self.issues.append(issue)
        return issue

    def extend(self, issues: Iterable[Issue]) -> None:
        self.issues.extend(issues)

    def __iter__(self) -> Iterator[Issue]:
        return iter(self.issues)

    def __len__(self) -> int:
        return len(self.issues)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors

    def errors_since(self, count: int) -> bool:
        """Whether an error was added after the first ``count`` issues (cheaper than
        comparing ``len(errors)``, which lists them all, in a per-field loop)."""
        return len(self.issues) > count and any(
            i.severity is Severity.ERROR for i in self.issues[count:])

    def codes(self) -> set[str]:
        return {i.code for i in self.issues}

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "issues": [i.to_dict() for i in self.issues]}

    @property
    def outcome(self) -> Outcome:
        return outcome_of(self.issues)


def outcome_of(issues: Iterable[Issue]) -> Outcome:
    """The PREMIS outcome of a check that found ``issues``: failure when one is an error,
    warning when one is a warning, else success (info never lowers it). The one rule for
    every step, event and verdict, so a severity means the same everywhere."""
    severities = {i.severity for i in issues}
    if Severity.ERROR in severities:
        return Outcome.FAILURE
    return Outcome.WARNING if Severity.WARNING in severities else Outcome.SUCCESS
