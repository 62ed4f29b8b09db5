"""Nhận dạng và bóc tách thông tin: propose a document's TT 05 fields from its OCR text.

Pure: text in, a ``Proposal`` out, no I/O. The rules follow the layout NĐ 30/2020/NĐ-CP
Phụ lục I gives every administrative document: the governing and issuing bodies top left with
``Số: 12/QĐ-UBND`` under them, the Quốc hiệu and Tiêu ngữ top right with
``Đà Nẵng, ngày 05 tháng 3 năm 2024`` under them, then the type name centred ("QUYẾT ĐỊNH")
with the trích yếu below it — or, for a công văn, no type line and ``V/v …`` under the number.

OCR noise is expected everywhere: lost or changed diacritics, O/0 and l/1 swaps, the two header
columns merged onto one line or read one after the other, broken lines. Words are compared
without diacritics (one plain character per NFC character, so positions survive), the type
name is matched to the 32 TT 05 names with rapidfuzz, and each field carries a confidence and
the line it came from, for the archivist who confirms it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from functools import cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from preservation.errors import KhosoError
from preservation.metadata.codelists import codelist
from preservation.metadata.dates import TTDate
from preservation.metadata.organ_lexicon import PHRASES

MAX_CHARS = 20_000  # the header lives on the first page; more text only costs time
MAX_LINES = 400
HEADER_LINES = 40  # where the Số line, the date and the type line are looked for
FIELD_NAMES = ("typeName", "codeNumber", "codeNotation", "issuedDate", "organName", "subject")
CONGVAN = "22"

# NĐ 30/2020 Phụ lục III: the abbreviation of each type in a ký hiệu.
TYPE_ABBREVIATIONS: dict[str, str] = {
    "NQ": "01", "QĐ": "02", "CT": "03", "QC": "04", "QyĐ": "05", "TC": "06", "TB": "07",
    "HD": "08", "CTr": "09", "KH": "10", "PA": "11", "ĐA": "12", "DA": "13", "BC": "14",
    "TTr": "15", "GUQ": "16", "PG": "17", "PC": "18", "PB": "19", "BB": "20", "HĐ": "21",
    "CĐ": "23", "GN": "24", "TTh": "25", "GM": "26", "GGT": "27", "NP": "28",
}
# The first word(s) of an organ's name: a header line starting so begins a new organ.
ORGAN_HEADS = (
    "uy ban", "ubnd", "hoi dong", "hdnd", "bo ", "so ", "phong ", "cuc ", "chi cuc", "tong cuc",
    "vu ", "vien ", "ban ", "trung tam", "van phong", "truong ", "dai hoc", "hoc vien",
    "tinh uy", "thanh uy", "huyen uy", "quan uy", "dang uy", "toa an", "vien kiem sat",
    "kiem toan", "thanh tra", "cong an", "bo chi huy", "ngan hang", "kho bac", "bao hiem",
    "cong ty", "tap doan", "benh vien", "lien doan", "doan ", "mat tran", "chinh phu",
    "thu tuong", "quoc hoi", "chu tich", "hoi ",
)
NATIONAL_MOTTO = ("cong hoa xa hoi chu nghia viet nam", "doc lap - tu do - hanh phuc")
BODY_STARTS = ("can cu", "kinh gui", "hom nay", "theo de nghi", "xet de nghi", "dieu 1",
               "noi nhan")

_ETH = str.maketrans({"Ð": "Đ", "ð": "đ", "Ɖ": "Đ", "ɖ": "đ"})  # look-alikes OCR emits
_DIGITS = str.maketrans({"O": "0", "o": "0", "Q": "0", "D": "0", "I": "1", "l": "1", "|": "1",
                         "i": "1", "!": "1", "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2",
                         "g": "9", "q": "9"})
_NUMBERISH = r"[0-9OoQDIl|i!SsBZzgq]"
_SO = re.compile(rf"^\W{{0,3}}s[o06]\s*[:;.,]?\s*(?P<num>{_NUMBERISH}{{1,6}})\s*[/|]\s*"
                 r"(?P<rest>\S.*)$")
_NOTATION = re.compile(r"[0-9A-Za-zĐđ]+(?:\s*[-/–]\s*[0-9A-Za-zĐđ]+)*")
_DATE = re.compile(rf"ngay\s*(?P<d>{_NUMBERISH}{{1,2}})\s*(?:thang\s*)(?P<m>{_NUMBERISH}{{1,2}})"
                   rf"\s*nam\s*(?P<y>{_NUMBERISH}{{4}})")
_VV = re.compile(r"^\W{0,3}v\s*[/|]\s*v\b\s*[:.]?\s*")
_VE_VIEC = re.compile(r"^\W{0,3}ve viec\b")


@dataclass(frozen=True)
class FieldProposal:
    """One proposed value: ``confidence`` from 0 (nothing found) to 1, and the OCR line it was
    read from (``evidence``), so an archivist sees why."""

    value: str | None
    confidence: float
    evidence: str | None

    def as_dict(self) -> dict[str, object]:
        return {"value": self.value, "confidence": round(self.confidence, 2),
                "evidence": self.evidence}


NOTHING = FieldProposal(None, 0.0, None)


@dataclass(frozen=True)
class Proposal:
    """The fields proposed for one văn bản, named as the TT 05 EAD elements."""

    typeName: FieldProposal = NOTHING  # noqa: N815 — TT 05 element names
    codeNumber: FieldProposal = NOTHING  # noqa: N815
    codeNotation: FieldProposal = NOTHING  # noqa: N815
    issuedDate: FieldProposal = NOTHING  # noqa: N815
    organName: FieldProposal = NOTHING  # noqa: N815
    subject: FieldProposal = NOTHING

    def as_dict(self) -> dict[str, dict[str, object]]:
        return {f.name: getattr(self, f.name).as_dict() for f in fields(self)}

    def values(self) -> dict[str, str | None]:
        return {f.name: getattr(self, f.name).value for f in fields(self)}


# -- text helpers -----------------------------------------------------------------------------

def _plain_char(c: str) -> str:
    if c in "đĐ":
        return "d"
    base = "".join(x for x in unicodedata.normalize("NFD", c) if not unicodedata.combining(x))
    return (base or c)[:1].lower() if base else c.lower()


def plain(text: str) -> str:
    """Lower case without diacritics, one character per NFC character (positions survive)."""
    return "".join(_plain_char(c) for c in text)


@dataclass(frozen=True)
class _Line:
    no: int  # index among the kept lines
    text: str  # NFC, spaces collapsed
    plain: str
    block: int  # paragraph: lines between blank lines


def _lines(text: str) -> list[_Line]:
    text = unicodedata.normalize("NFC", text[:MAX_CHARS]).translate(_ETH)
    text = "".join(c if c in "\n\t" or unicodedata.category(c)[0] != "C" else " " for c in text)
    out: list[_Line] = []
    block = 0
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line:
            block += 1
            continue
        out.append(_Line(len(out), line, plain(line), block))
        if len(out) >= MAX_LINES:
            break
    return out


def _evidence(line: _Line | str) -> str:
    text = line.text if isinstance(line, _Line) else line
    return text[:200]


def _strip_motto(line: _Line) -> tuple[_Line, bool]:
    """The line without the Quốc hiệu / Tiêu ngữ the right column put on it."""
    text, pl, found = line.text, line.plain, False
    for motto in NATIONAL_MOTTO:
        if len(pl) < 8:
            break
        al = fuzz.partial_ratio_alignment(motto, pl, score_cutoff=80)
        if al is None:
            continue
        start, end = al.dest_start, al.dest_end
        if (end - start) < len(motto) * 0.8:
            continue
        text, pl, found = (text[:start] + " " + text[end:]), (pl[:start] + " " + pl[end:]), True
    text = " ".join(text.split())
    return _Line(line.no, text, plain(text), line.block), found


# -- fields -----------------------------------------------------------------------------------

def _number(raw: str) -> str | None:
    digits = raw.translate(_DIGITS)
    if not digits.isdigit():
        return None
    return str(int(digits)) if len(digits) <= 11 else None


@cache
def _abbreviations_by_plain() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for abbr in TYPE_ABBREVIATIONS:
        out[plain(abbr)] = (*out.get(plain(abbr), ()), abbr)
    return out


def _clean_notation(raw: str, type_code: str | None) -> str | None:
    found = _NOTATION.match(raw)
    if found is None:
        return None
    parts = re.split(r"\s*([-/–])\s*", found.group(0))
    out: list[str] = []
    for part in parts:
        if part in "-/–":
            out.append("-" if part == "–" else part)
            continue
        options = _abbreviations_by_plain().get(plain(part), ())
        if part not in TYPE_ABBREVIATIONS and options:
            fitting = [a for a in options if TYPE_ABBREVIATIONS[a] == type_code]
            part = fitting[0] if fitting else options[0] if len(options) == 1 else part
        elif not part.isdigit():
            part = re.sub(r"(?<=[A-ZĐ])0|0(?=[A-ZĐ])", "O", part)  # O read as 0 among letters
        out.append(part)
    text = "".join(out).strip("-/")
    return text[:30] or None


def _initials(organ: str) -> str:
    """An organ's abbreviation as a ký hiệu writes it: first letters, no diacritics but Đ."""
    return "".join(w[0] if w[0] in "Đđ" else plain(w[0]).upper()
                   for w in organ.replace(",", " ").split()
                   if w[0].isalpha() and plain(w) != "va")


def _fit_notation(notation: str, type_code: str | None, organ: str | None) -> str:
    """Put back what OCR broke in a ký hiệu when the rest of the page says what it must be:
    the type's abbreviation (NĐ 30 Phụ lục III) within one character, and the issuing body's
    initials read without their diacritics ("SGDDT" → "SGDĐT")."""
    parts = re.split(r"([-/])", notation)
    abbr = next((a for a, c in TYPE_ABBREVIATIONS.items() if c == type_code), None)
    initials = _initials(organ) if organ else ""
    typed = False
    for i, part in enumerate(parts):
        if part in "-/" or part.isdigit():
            continue
        if abbr and not typed:
            typed = True
            if part != abbr and Levenshtein.distance(plain(part), plain(abbr)) <= 1:
                parts[i] = abbr
                continue
        if initials and part != initials and plain(part) == plain(initials):
            parts[i] = initials
    return "".join(parts)


def _number_line(lines: Sequence[_Line]) -> tuple[_Line, re.Match[str]] | None:
    found = [(ln, m) for ln in lines if (m := _SO.match(ln.plain)) and _number(m["num"])]
    return found[0] if found else None


def _date(lines: Sequence[_Line]) -> FieldProposal:
    """The place-and-date line: ``Place, ngày D tháng M năm YYYY`` in the header; a date in
    the body ("Căn cứ Luật … ngày …") is taken only when no header date exists."""
    best: tuple[float, _Line, TTDate] | None = None
    unreadable: _Line | None = None  # a place-and-date line whose date is no date
    for ln in lines:
        for m in _DATE.finditer(ln.plain):
            before = ln.plain[:m.start()]
            try:
                day, month, year = (int(m[k].translate(_DIGITS)) for k in ("d", "m", "y"))
                date = TTDate(year, month, day)
                if not 1900 <= year <= 2100:
                    raise ValueError(year)
            except (KhosoError, ValueError):
                if before.rstrip().endswith(",") and unreadable is None:
                    unreadable = ln
                continue
            score = 0.6
            if before.rstrip().endswith(","):
                score = 0.95  # "Đà Nẵng, ngày …"
            elif not before.strip():
                score = 0.85
            if any(w in before for w in ("so ", "luat", "nghi dinh", "can cu", "thong tu")):
                score = 0.3
            if best is None or score > best[0]:
                best = (score, ln, date)
    if unreadable is not None and (best is None or best[0] < 0.95):
        return FieldProposal(None, 0.0, _evidence(unreadable))  # better none than the body's
    if best is None:
        return NOTHING
    return FieldProposal(best[2].format(), best[0], _evidence(best[1]))


@cache
def _type_names() -> dict[str, str]:
    types = codelist("typeName")
    return {code: plain(types.label(code)) for code in types.codes}


def _type_line(lines: Sequence[_Line]) -> tuple[str, float, _Line] | None:
    """A short, mostly upper-case line that reads as one of the 32 type names."""
    names = _type_names()
    best: tuple[str, float, _Line] | None = None
    for ln in lines:
        letters = [c for c in ln.text if c.isalpha()]
        if not 4 <= len(ln.plain) <= 30 or not letters:
            continue
        if sum(c.isupper() for c in letters) < 0.7 * len(letters):
            continue
        match = process.extractOne(ln.plain, names, scorer=fuzz.ratio, score_cutoff=80)
        if match is None:
            continue
        _name, score, code = match
        if best is None or score > best[1]:
            best = (str(code), float(score), ln)
    return best


def _vv_line(lines: Sequence[_Line]) -> _Line | None:
    return next((ln for ln in lines if _VV.match(ln.plain)), None)


def _is_body(ln: _Line) -> bool:
    return ln.plain.lstrip(" -–•*").startswith(BODY_STARTS)


def _without_place_date(ln: _Line) -> str:
    """``ln`` without a ``Place, ngày … năm …`` the right column put on the same line."""
    m = _DATE.search(ln.plain)
    if m is None:
        return ln.text
    start = m.start()
    before = ln.text[:start].rstrip()
    if before.endswith(","):
        words = before[:-1].split(" ")
        while words and words[-1][:1].isupper():
            words.pop()
        before = " ".join(words)
    return " ".join(f"{before} {ln.text[m.end():]}".split())


def _subject_after(lines: Sequence[_Line], first: _Line, skip_first: bool,
                   motto_free: dict[int, _Line]) -> FieldProposal:
    """The trích yếu: ``first`` (or the line after it) and its continuation lines in the same
    paragraph, at most three; a line ending a sentence (``.``/``;``) is the body's."""
    start = first.no + (1 if skip_first else 0)
    parts: list[str] = []
    used: list[_Line] = []
    for ln in lines[start:start + 4]:
        ln = motto_free.get(ln.no, ln)
        text = _without_place_date(ln)
        if used and (ln.block != used[-1].block or _is_body(ln) or _SO.match(ln.plain)
                     or text.endswith((".", ";"))):
            break
        if not used and (not text or _is_body(ln)):
            break
        if text:
            parts.append(text)
        used.append(ln)
        if len(used) == 3:
            break
    if not parts:
        return NOTHING
    text = " ".join(" ".join(parts).split())
    text = re.sub(r"\s+([,.;:])", r"\1", text)
    confidence = 0.85 if len(used) == 1 else 0.7
    return FieldProposal(text[:500], confidence, _evidence(" / ".join(p.text for p in used)))


def _upper_run(text: str) -> str:
    """The leading words of ``text`` written in capitals: an organ's line without what the
    right column or a stain added after it."""
    kept: list[str] = []
    for word in text.split():
        letters = [c for c in word if c.isalpha()]
        if letters and all(c.isupper() for c in letters) and len(letters) >= len(word) - 1:
            kept.append(word)
        elif not letters and word in ("-", "–", ",", "&"):
            kept.append(word)
        elif not any(c.isalnum() for c in word):
            continue  # a speck read as punctuation
        else:
            break
    deduped = [w for i, w in enumerate(kept) if i == 0 or w != kept[i - 1]]
    words = _lexicon_words()
    while deduped:
        last = deduped[-1].rstrip(".,;:")
        if any(c.isalpha() for c in last) and (len(last) > 1 or plain(last) in words):
            deduped[-1] = last
            break
        deduped.pop()
    return " ".join(deduped)


@cache
def _lexicon_words() -> frozenset[str]:
    return frozenset(w for p in PHRASES for w in plain(p).replace(",", " ").split())


@cache
def _lexicon() -> dict[tuple[str, ...], str]:
    return {tuple(plain(p).replace(",", " ").split()): p for p in PHRASES}


def _relex(name: str) -> str:
    """``name`` with each phrase of the organ lexicon that it reads as (without diacritics, or
    within one character over two words or more) written as the lexicon writes it."""
    words = name.split()
    keys = [plain(w).strip(",") for w in words]
    lexicon = _lexicon()
    longest = max(len(k) for k in lexicon)
    out: list[str] = []
    i = 0
    while i < len(words):
        for size in range(min(longest, len(words) - i), 0, -1):
            key = tuple(keys[i:i + size])
            found = lexicon.get(key)
            if found is None and size >= 2 and all(any(c.isalpha() for c in k) for k in key):
                joined = " ".join(key)
                near = process.extractOne(joined, {k: " ".join(k) for k in lexicon
                                                   if len(k) == size},
                                          scorer=fuzz.ratio, score_cutoff=90)
                if near is not None and near[1] < 100:
                    found = lexicon[near[2]]
            if found is not None:
                comma = words[i + size - 1].endswith(",") and not found.endswith(",")
                out.append(found + ("," if comma else ""))
                i += size
                break
        else:
            out.append(words[i])
            i += 1
    return " ".join(out)


def _lexical(text: str) -> float:
    """The share of ``text``'s words found in the organ lexicon."""
    words = [w for w in plain(text).replace(",", " ").split() if any(c.isalpha() for c in w)]
    return sum(w in _lexicon_words() for w in words) / len(words) if words else 0.0


def _starts_organ(text: str) -> bool:
    pl = plain(text)
    if pl.startswith(ORGAN_HEADS):
        return True
    first = " ".join(pl.split()[:2])
    return any(fuzz.ratio(first[:len(h) + 1].strip(), h.strip()) >= 85 for h in ORGAN_HEADS
               if len(h.strip()) >= 4)


def _organ(header: Sequence[_Line], known_organs: Sequence[str]) -> FieldProposal:
    """The issuing body: the last organ name in the header's left column (the governing body,
    when printed, is the one above it)."""
    groups: list[list[str]] = []
    used: list[list[_Line]] = []
    for ln in header:
        if _DATE.search(ln.plain) or _SO.match(ln.plain) or _VV.match(ln.plain):
            continue
        text = _upper_run(ln.text)
        if sum(c.isalpha() for c in text) < 3:
            continue
        if _starts_organ(text) or not groups:
            groups.append([text])
            used.append([ln])
        elif _lexical(text) > 0:  # a name's second line, not a stain read as capitals
            groups[-1].append(text)
            used[-1].append(ln)
    if not groups:
        return NOTHING
    name = _relex(" ".join(groups[-1]))
    evidence = _evidence(" / ".join(ln.text for ln in used[-1]))
    confidence = 0.85 if _starts_organ(name) else 0.6
    if known_organs:
        by_plain = {plain(o): o for o in known_organs}
        match = process.extractOne(plain(name), list(by_plain), scorer=fuzz.ratio,
                                   score_cutoff=85)
        if match is not None:
            return FieldProposal(by_plain[match[0]], match[1] / 100, evidence)
    return FieldProposal(name[:200], confidence, evidence)


def extract(text: str, known_organs: Iterable[str] = ()) -> Proposal:
    """The fields NĐ 30/2020's layout lets one read from ``text`` (OCR of a document's first
    page). Never raises on any text: a field not found is ``None`` with confidence 0.
    ``known_organs`` (the archive's agencies, as they should be written) snaps a read organ
    name to the nearest one when it is close enough."""
    lines = _lines(text)
    if not lines:
        return Proposal()
    head = lines[:HEADER_LINES]
    motto_free: dict[int, _Line] = {}
    for ln in head:
        stripped, found = _strip_motto(ln)
        if found:
            motto_free[ln.no] = stripped
    clean = [motto_free.get(ln.no, ln) for ln in head]

    type_hit = _type_line(clean)
    number_hit = _number_line(clean)
    date = _date(clean if any(_DATE.search(ln.plain) for ln in clean) else lines)

    # the type: its line, else a công văn's V/v, else the ký hiệu's abbreviation
    vv = _vv_line(clean)
    type_code: str | None = None
    type_prop = NOTHING
    if type_hit is not None:
        type_code = type_hit[0]
        type_prop = FieldProposal(type_code, type_hit[1] / 100, _evidence(type_hit[2]))
    elif vv is not None:
        type_code = CONGVAN
        type_prop = FieldProposal(CONGVAN, 0.8, _evidence(vv))

    end = number_hit[0].no if number_hit is not None else min(len(clean), 6)
    header = [ln for ln in clean[:end] if not _type_line([ln])]
    organ = _organ(header, list(known_organs))

    number = notation = NOTHING
    if number_hit is not None:
        ln, m = number_hit
        raw_rest = ln.text[m.start("rest"):]
        code = _number(m["num"])
        number = FieldProposal(code, 0.9, _evidence(ln))
        cleaned = _clean_notation(raw_rest, type_code)
        if cleaned and (type_hit is not None or organ.value):
            cleaned = _fit_notation(cleaned, type_hit[0] if type_hit else None, organ.value)
        notation = FieldProposal(cleaned, 0.9 if cleaned else 0.0, _evidence(ln))
        others = [o for o in clean if o is not ln and _SO.match(o.plain)]
        if others:  # two "Số:" lines: say so through a lower confidence
            number = FieldProposal(number.value, 0.5, number.evidence)
            notation = FieldProposal(notation.value, 0.5 if cleaned else 0.0, notation.evidence)
        if type_prop is NOTHING and cleaned:
            first = re.split(r"[-/]", cleaned.split("/")[-1])[0]
            by_abbr = TYPE_ABBREVIATIONS.get(first)
            if by_abbr:
                type_prop = FieldProposal(by_abbr, 0.6, _evidence(ln))
        elif type_hit is not None and cleaned:
            first = re.split(r"[-/]", cleaned.split("/")[-1])[0]
            if TYPE_ABBREVIATIONS.get(first) == type_hit[0]:
                type_prop = FieldProposal(type_prop.value, max(type_prop.confidence, 0.97),
                                          type_prop.evidence)

    subject = NOTHING
    if type_hit is not None:
        subject = _subject_after(lines, type_hit[2], True, motto_free)
    elif vv is not None:
        subject = _subject_after(lines, vv, False, motto_free)

    return Proposal(typeName=type_prop, codeNumber=number, codeNotation=notation,
                    issuedDate=date, organName=organ, subject=subject)
