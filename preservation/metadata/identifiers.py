"""TT 05 identifiers (§4): build, print and parse file, document, paper and package codes.

Parsing is ambiguous because agency identifiers and notations both contain dots
(``H49.64.33.2001.160``, ``000.00.00.G09.2010.01.TH``). The rule used everywhere here:

    the year is the FIRST dot-separated segment, at position >= 1 after the parts that must
    precede it, made of exactly 4 digits with a value in 1800..2100.

Everything before it is the agency (or fonds) identifier, everything after it the notation.
An agency identifier that itself holds such a segment cannot be split by the rule; pass the
known identifier (``organ_id=`` / ``owner=`` / ``archive_code=``) and it is used as the prefix.
Mục lục số is likewise indistinguishable from the notation's last part: pass ``has_muc_luc=True``.
Every code is at most 100 characters. Invalid input raises ``KhosoError`` with an ``ID`` code.
"""

from __future__ import annotations

import re
import unicodedata
import uuid as uuid_mod
from dataclasses import dataclass

from preservation.errors import KhosoError

YEAR_MIN, YEAR_MAX = 1800, 2100
MAX_LENGTH = 100
DOC_ID_SOFT_MAX = 25  # TT 05 String(25); longer docIds are accepted with ID006 (§16.7)
ORDINAL_MAX = 9_999_999
_NO_SPACE = re.compile(r"\S+")
_ORD7 = re.compile(r"\d{7}")
_UUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"

FILE_CODE_FORM = "{mã cơ quan}.{năm}.{số và ký hiệu hồ sơ}"
ARC_FILE_CODE_FORM = "{mã cơ quan lưu trữ}.{mã cơ quan | mã phông}.{năm}.{số và ký hiệu}[.{mục lục số}]"
PAPER_FORM = "{mã cơ quan lưu trữ}.{số kho/giá/hộp}.{số hồ sơ giấy}"


def _is_year(segment: str) -> bool:
    return len(segment) == 4 and segment.isdigit() and YEAR_MIN <= int(segment) <= YEAR_MAX


# Control, format (zero-width space, bidi overrides, BOM, soft hyphen…), private-use,
# unassigned and separator characters: none is seen, so a code holding one looks like another.
_HIDDEN = frozenset({"Cc", "Cf", "Co", "Cn", "Zl", "Zp", "Zs"})


def _visible(text: str) -> str:
    """``text`` with each hidden character written ``<U+XXXX>``, for a message."""
    return "".join(f"<U+{ord(c):04X}>" if unicodedata.category(c) in _HIDDEN else c for c in text)


def _check_dotted(value: str, expected: str, shown: str | None = None) -> list[str]:
    """Non-empty, no whitespace or other hidden character, no empty segment; returns the
    segments."""
    segments = value.split(".")
    if (not _NO_SPACE.fullmatch(value) or not all(segments)
            or any(unicodedata.category(c) in _HIDDEN for c in value)):
        raise KhosoError("ID002", value=_visible(shown or value), expected=expected)
    return segments


def _check_length(text: str) -> None:
    if len(text) > MAX_LENGTH:
        raise KhosoError("ID005", value=text, length=len(text), max=MAX_LENGTH)


def _check_year(year: int, shown: str) -> None:
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise KhosoError("ID001", value=shown)


def _strip_prefix(text: str, prefix: str) -> str:
    if not text.startswith(prefix + "."):
        raise KhosoError("ID009", value=text, prefix=prefix)
    return text[len(prefix) + 1 :]


def _split_year(rest: str, text: str, owner: str | None, expected: str) -> tuple[str, int, str]:
    """Split ``owner.year.notation`` (``rest`` is a suffix of ``text``, used in messages)."""
    if owner is not None:
        _check_dotted(owner, expected, text)
        rest = _strip_prefix(rest, owner)
        segments = _check_dotted(rest, expected, text)
        if not _is_year(segments[0]):
            raise KhosoError("ID001", value=text)
        index, head = 0, owner
    else:
        segments = _check_dotted(rest, expected, text)
        index = next((i for i, s in enumerate(segments) if i >= 1 and _is_year(s)), -1)
        if index < 0:
            raise KhosoError("ID001", value=text)
        head = ".".join(segments[:index])
    notation = ".".join(segments[index + 1 :])
    if not notation:
        raise KhosoError("ID002", value=text, expected=expected)
    return head, int(segments[index]), notation


def _split_ordinal(text: str) -> tuple[str, int]:
    _check_length(text)
    prefix, _, last = text.rpartition(".")
    if not prefix or not _ORD7.fullmatch(last) or int(last) == 0:
        raise KhosoError("ID003", value=text)
    return prefix, int(last)


def _with_value(exc: KhosoError, text: str) -> KhosoError:
    return KhosoError(exc.code, exc.issue.path, **{**exc.issue.params, "value": _visible(text)})


@dataclass(frozen=True)
class FileCode:
    """``fileCode`` (SIP): agency identifier + year + số và ký hiệu hồ sơ."""

    organ_id: str
    year: int
    notation: str

    def __post_init__(self) -> None:
        shown = f"{self.organ_id}.{self.year}.{self.notation}"
        _check_dotted(self.organ_id, FILE_CODE_FORM, shown)
        _check_dotted(self.notation, FILE_CODE_FORM, shown)
        _check_year(self.year, shown)
        _check_length(self.build())

    def build(self) -> str:
        return f"{self.organ_id}.{self.year:04d}.{self.notation}"

    def __str__(self) -> str:
        return self.build()

    @classmethod
    def parse(cls, text: str, *, organ_id: str | None = None) -> FileCode:
        _check_length(text)
        organ, year, notation = _split_year(text, text, organ_id, FILE_CODE_FORM)
        return cls(organ, year, notation)


@dataclass(frozen=True)
class ArcFileCode:
    """``arcFileCode`` (AIP): archive code + (agency id | fonds code of a closed fonds) + year
    + notation [+ mục lục số]."""

    archive_code: str
    owner: str
    year: int
    notation: str
    muc_luc: str | None = None

    def __post_init__(self) -> None:
        shown = self.build()
        for part in (self.archive_code, self.owner, self.notation):
            _check_dotted(part, ARC_FILE_CODE_FORM, shown)
        if self.muc_luc is not None:
            _check_dotted(self.muc_luc, ARC_FILE_CODE_FORM, shown)
        _check_year(self.year, shown)
        _check_length(shown)

    def build(self) -> str:
        text = f"{self.archive_code}.{self.owner}.{self.year:04d}.{self.notation}"
        return f"{text}.{self.muc_luc}" if self.muc_luc is not None else text

    def __str__(self) -> str:
        return self.build()

    @classmethod
    def parse(
        cls,
        text: str,
        *,
        archive_code: str | None = None,
        owner: str | None = None,
        has_muc_luc: bool = False,
    ) -> ArcFileCode:
        """Without ``archive_code`` the archive code is the first segment."""
        _check_length(text)
        if archive_code is not None:
            _check_dotted(archive_code, ARC_FILE_CODE_FORM, text)
            rest = _strip_prefix(text, archive_code)
        else:
            archive_code, _, rest = text.partition(".")
            if not archive_code or not rest:
                raise KhosoError("ID002", value=text, expected=ARC_FILE_CODE_FORM)
        head, year, notation = _split_year(rest, text, owner, ARC_FILE_CODE_FORM)
        muc_luc = None
        if has_muc_luc:
            notation, _, muc_luc = notation.rpartition(".")
            if not notation:
                raise KhosoError("ID002", value=text, expected=ARC_FILE_CODE_FORM)
        return cls(archive_code, head, year, notation, muc_luc)


def arc_file_code_of(archive_code: str, file_code: str) -> str:
    """The arcFileCode an archive gives a hồ sơ it receives: its own code before the hồ sơ's
    fileCode (which starts with the agency id and year, as ``ArcFileCode`` reads it)."""
    return f"{archive_code}.{file_code}"


@dataclass(frozen=True)
class DocCode:
    """``docCode``: fileCode + "." + 7-digit ordinal (``H49.64.33.2001.160.0000001``)."""

    file_code: FileCode
    ordinal: int

    def __post_init__(self) -> None:
        if not 1 <= self.ordinal <= ORDINAL_MAX:
            raise KhosoError("ID003", value=f"{self.file_code}.{self.ordinal}")
        _check_length(self.build())

    def build(self) -> str:
        return f"{self.file_code}.{self.ordinal:07d}"

    def __str__(self) -> str:
        return self.build()

    @classmethod
    def parse(cls, text: str, *, organ_id: str | None = None) -> DocCode:
        prefix, ordinal = _split_ordinal(text)
        try:
            return cls(FileCode.parse(prefix, organ_id=organ_id), ordinal)
        except KhosoError as exc:
            raise _with_value(exc, text) from None


@dataclass(frozen=True)
class ArcDocCode:
    """``arcDocCode``: arcFileCode + "." + 7-digit ordinal."""

    arc_file_code: ArcFileCode
    ordinal: int

    def __post_init__(self) -> None:
        if not 1 <= self.ordinal <= ORDINAL_MAX:
            raise KhosoError("ID003", value=f"{self.arc_file_code}.{self.ordinal}")
        _check_length(self.build())

    def build(self) -> str:
        return f"{self.arc_file_code}.{self.ordinal:07d}"

    def __str__(self) -> str:
        return self.build()

    @classmethod
    def parse(
        cls,
        text: str,
        *,
        archive_code: str | None = None,
        owner: str | None = None,
        has_muc_luc: bool = False,
    ) -> ArcDocCode:
        prefix, ordinal = _split_ordinal(text)
        try:
            arc = ArcFileCode.parse(
                prefix, archive_code=archive_code, owner=owner, has_muc_luc=has_muc_luc
            )
        except KhosoError as exc:
            raise _with_value(exc, text) from None
        return cls(arc, ordinal)


@dataclass(frozen=True)
class DocId:
    """``docId``: fileCode + "." + ordinal without padding (``H49.64.33.2001.160.1``).

    TT 05 allows 25 characters, which a long fileCode overflows (§16.7): up to 100 is accepted,
    ``is_long`` tells the caller to warn (ID006).
    """

    file_code: FileCode
    ordinal: int

    def __post_init__(self) -> None:
        if not 1 <= self.ordinal <= ORDINAL_MAX:
            raise KhosoError("ID004", value=f"{self.file_code}.{self.ordinal}")
        _check_length(self.build())

    def build(self) -> str:
        return f"{self.file_code}.{self.ordinal}"

    def __str__(self) -> str:
        return self.build()

    @property
    def is_long(self) -> bool:
        return len(self.build()) > DOC_ID_SOFT_MAX

    @classmethod
    def parse(cls, text: str, *, organ_id: str | None = None) -> DocId:
        _check_length(text)
        prefix, _, last = text.rpartition(".")
        if not prefix or not re.fullmatch(r"[1-9]\d{0,6}", last):
            raise KhosoError("ID004", value=text)
        try:
            return cls(FileCode.parse(prefix, organ_id=organ_id), int(last))
        except KhosoError as exc:
            raise _with_value(exc, text) from None


@dataclass(frozen=True)
class PaperFileCode:
    """``paperFileCode``: archive code + storage location (kho/giá/hộp) + paper file number.

    The archive code is the first segment unless given; the number is the last segment; the
    location is everything between (it may contain dots).
    """

    archive_code: str
    location: str
    paper_no: str

    def __post_init__(self) -> None:
        shown = self.build()
        for part in (self.archive_code, self.location, self.paper_no):
            _check_dotted(part, PAPER_FORM, shown)
        _check_length(shown)

    def build(self) -> str:
        return f"{self.archive_code}.{self.location}.{self.paper_no}"

    def __str__(self) -> str:
        return self.build()

    @classmethod
    def parse(cls, text: str, *, archive_code: str | None = None) -> PaperFileCode:
        _check_length(text)
        _check_dotted(text, PAPER_FORM)
        if archive_code is not None:
            rest = _strip_prefix(text, archive_code)
        else:
            archive_code, _, rest = text.partition(".")
        location, _, paper_no = rest.rpartition(".")
        if not location:
            raise KhosoError("ID002", value=text, expected=PAPER_FORM)
        return cls(archive_code, location, paper_no)


@dataclass(frozen=True)
class SipTailieuCode:
    """Package code of a SIP_tailieu: agency id + year + batch (2 digits) + ordinal (7 digits).

    The "." separator is our reading of the "+" in the text (§4.1 [I]).
    """

    organ_id: str
    year: int
    batch: int
    ordinal: int

    def __post_init__(self) -> None:
        shown = f"{self.organ_id}.{self.year}.{self.batch}.{self.ordinal}"
        _check_dotted(self.organ_id, "", shown)
        _check_year(self.year, shown)
        if not (1 <= self.batch <= 99 and 1 <= self.ordinal <= ORDINAL_MAX):
            raise KhosoError("ID007", value=shown)
        _check_length(self.build())

    def build(self) -> str:
        return f"{self.organ_id}.{self.year:04d}.{self.batch:02d}.{self.ordinal:07d}"

    def __str__(self) -> str:
        return self.build()

    @classmethod
    def parse(cls, text: str) -> SipTailieuCode:
        _check_length(text)
        m = re.fullmatch(r"(\S+)\.(\d{4})\.(\d{2})\.(\d{7})", text)
        if not m:
            raise KhosoError("ID007", value=text)
        organ, year, batch, ordinal = m.groups()
        if not _is_year(year):
            raise KhosoError("ID001", value=text)
        try:
            return cls(organ, int(year), int(batch), int(ordinal))
        except KhosoError as exc:
            raise _with_value(exc, text) from None


_OBJID_FORMS = {
    "SIP": "uuid-{UUID}",
    "DIP": "uuid-{UUID}",
    "AIP": "urn:{mã phông}:uuid-{UUID} | urn:uuid:{UUID}",
}


@dataclass(frozen=True)
class PackageId:
    """METS ``OBJID``. SIP/DIP: ``uuid-{UUID}``. AIP: ``urn:{fond}:uuid-{UUID}`` is emitted
    (``urn:uuid:{UUID}`` when no fonds code is known); ``urn:{fond}:uuid:{UUID}`` is accepted
    on input (§4.1, §16.9). UUIDs are printed upper-case."""

    package: str
    uuid: uuid_mod.UUID | str  # ingest passes its job id, a UUID, as text
    fond_code: str | None = None

    def __post_init__(self) -> None:
        if self.package not in _OBJID_FORMS or (
            self.fond_code is not None
            and (self.package != "AIP" or not re.fullmatch(r"[^\s:]+", self.fond_code))
        ):
            raise KhosoError(
                "ID008",
                value=f"{self.fond_code}:{self.uuid}",
                package=self.package,
                expected=_OBJID_FORMS.get(self.package, "SIP | AIP | DIP"),
            )

    def build(self) -> str:
        u = str(self.uuid).upper()
        if self.package != "AIP":
            return f"uuid-{u}"
        return f"urn:{self.fond_code}:uuid-{u}" if self.fond_code else f"urn:uuid:{u}"

    def __str__(self) -> str:
        return self.build()

    @property
    def folder_name(self) -> str:
        """Package folder: SIP = OBJID; AIP/DIP: every ":" replaced by "_" (§4.1)."""
        return self.build() if self.package == "SIP" else self.build().replace(":", "_")

    @classmethod
    def parse(cls, text: str, package: str) -> PackageId:
        expected = _OBJID_FORMS.get(package, "SIP | AIP | DIP")
        if package in ("SIP", "DIP"):
            m = re.fullmatch(rf"uuid-({_UUID})", text)
            if m:
                return cls(package, uuid_mod.UUID(m.group(1)))
        elif package == "AIP":
            if m := re.fullmatch(rf"urn:uuid:({_UUID})", text):
                return cls(package, uuid_mod.UUID(m.group(1)))
            if m := re.fullmatch(rf"urn:([^\s:]+):uuid[-:]({_UUID})", text):
                return cls(package, uuid_mod.UUID(m.group(2)), m.group(1))
        raise KhosoError("ID008", value=text, package=package, expected=expected)


# Mã định danh điện tử của cơ quan, tổ chức (QĐ 20/2020/QĐ-TTg): four levels, written
# level 4 . level 3 . level 2 . level 1 (Điều 4), level 1 a letter and two digits (G: ministries
# and central bodies, H: provinces). TT 05's own sample package writes the levels in the other
# order (H49.64.33), so that order is accepted too; an enterprise or co-operative is identified
# by its tax code, ten digits, "-" and three more for a dependent unit (Điều 5).
_ORGAN_ID_FORMS = (
    re.compile(r"\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}"),
    re.compile(r"[A-Z]\d{2}\.\d{2}\.\d{2}(?:\.\d{3})?"),
    re.compile(r"\d{10}(?:-\d{3})?"),
)
ORGAN_ID_FORM = "NNN.NN.NN.XNN"
ORGAN_ID_EXAMPLE = "000.00.00.G09"


def is_organ_id(value: str) -> bool:
    """Whether ``value`` has the form of an agency identifier under QĐ 20/2020/QĐ-TTg."""
    return any(form.fullmatch(value) for form in _ORGAN_ID_FORMS)
