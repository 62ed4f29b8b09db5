"""A digitised paper hồ sơ straight into an AIP_hoso (#16, TT 05/2025 Điều 8 khoản 3).

The folder (or, over the API, a ZIP of it) holds the hồ sơ's metadata in the sheet format of
``khoso sip build`` (:mod:`ingest.sip_sheet`: one ``hoso`` row and one ``doc`` row per
document) and one sub-folder of page images (TIFF, JPEG, PNG) per document, named by the
document row's ``file`` cell; pages are taken in natural name order (``2.tif`` before
``10.tif``)::

    FOLDER/hoso.csv          kind,file,fileCode,title,… (paperFileCode, or --paper-code)
    FOLDER/qd-125/001.tif …  the pages of the document whose row says file = qd-125

A hồ sơ digitised whole as one PDF has one document row with ``file`` = ``.`` and its pages at
the top of the folder; its PDF takes the mã hồ sơ alone as its name.

Why an internal SIP: each document becomes one signed two-layer PDF/A (``make_pdf`` of
:mod:`ingest.digitise`), named per TT 05 Điều 8 khoản 1 điểm d (mã hồ sơ + "." + số thứ tự
tài liệu), and the sheet is rewritten to name those PDFs with ``confidenceLevel`` 02 and the
``paperFileCode``; ``ingest.sip_build`` then builds a TT 05 SIP bag in the job's workspace and
the unchanged ingest pipeline takes it from ``receive`` on. So a digitised hồ sơ gets exactly
the checks and the storage an agency's AIP gets (virus scan, format identification, signature
validation, the AIP builder, every location written and verified, one registering transaction,
the archive's AIP signature) and no second AIP builder exists to drift from the first. The SIP
never leaves the workspace: no agency sees it. The digitisation itself is the pipeline's first
step (``digitise``): its PREMIS ``digitization`` events (scanner, operator, OCR engine and tool
versions, timings) go into the AIP's PREMIS with the others, and a refusal (a missing sheet, an
empty folder, a refused page, a hồ sơ already held) rejects the job with its codes before
anything is stored. The OCR text is written beside the documents in the same transaction
(``DocumentOcrText``) and indexed for full-text search.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import sqlalchemy as sa

from ingest.adapters.signatures import PdfSignatureVerifier
from ingest.context import IngestContext, Services, Step, StepResult
from ingest.sip_build import read_sheet, try_build_sip
from ingest.sip_sheet import DOCUMENT_KINDS, FILE, KIND, PACKAGE_KINDS
from ingest.unpack import unpack
from preservation.catalog.models import Agency, DocumentOcrText, Package, RecordFile
from preservation.errors import KhosoError, Unavailable
from preservation.events import IMAGING, Agent, Event, Outcome
from preservation.issues import Issue, Report
from preservation.metadata.codelists import field_specs
from preservation.metadata.identifiers import FileCode, PaperFileCode, arc_file_code_of
from preservation.packaging.model import REP1
from preservation.settings import Settings
from preservation.signing import load_signer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
T = TypeVar("T")

# The PREMIS event of digitising a paper original. The LoC eventType vocabulary, which khoso
# writes verbatim (``preservation.packaging.premis.EVENT_TYPES``), has no "digitization": its
# term for producing a digital image of a physical object is "imaging"; the event's detail
# starts with "digitization" so both words find it.
DIGITIZATION = IMAGING
OCR_IN_DETAIL = "; OCR "  # the digitization event's detail ends with the OCR engine
CONFIDENCE_DIGITISED = "02"  # confidenceLevel: Số hóa (TT 05 Phụ lục I)
IMAGE_SUFFIXES = (".tif", ".tiff", ".jpg", ".jpeg", ".png")
SHEET_SUFFIXES = (".csv", ".xlsx", ".json")
PAGE_BREAK = "\f"  # between the OCR text of two pages
WHOLE = "."  # the ``file`` cell of the one document row when the whole hồ sơ is one PDF


@dataclass(frozen=True)
class Options:
    """What the person digitising says beside the folder; kept in the job's payload."""

    file_code: str
    fond_code: str
    paper_file_code: str | None = None
    operator: str = ""
    scanner: str | None = None

    def to_payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Options:
        return cls(file_code=str(payload["file_code"]), fond_code=str(payload["fond_code"]),
                   paper_file_code=payload.get("paper_file_code"),
                   operator=str(payload.get("operator") or ""), scanner=payload.get("scanner"))


@dataclass(frozen=True)
class DigitisedDocument:
    """What making one PDF/A gave, as the AIP's PREMIS and the search index need it."""

    pdf: Path
    pages: int
    text: str  # the text layer, pages joined by PAGE_BREAK
    engine: str  # OCR engine and version ("Tesseract 5.3.0 (vie)")
    tools: tuple[tuple[str, str], ...]  # (tool, version) of every tool that made the file
    seconds: dict[str, float] = field(default_factory=dict)  # per stage: ocr, pdfa, sign…
    signer: str = ""


class Digitiser(Protocol):
    """Page images to one signed PDF/A (``ingest.digitise.adapter``). Both raise KhosoError:
    a refused page (``ValidationFailed``) or the archive's own tools failing (transient)."""

    def check(self, pages: Sequence[Path]) -> None:
        """Refuse the pages before any OCR runs (cheap: headers and pixels only)."""

    def __call__(self, pages: Sequence[Path], out: Path) -> DigitisedDocument: ...


@dataclass(frozen=True)
class PlannedDocument:
    row: int  # the sheet's row number, as people see it
    ordinal: int  # số thứ tự tài liệu trong hồ sơ (1-based, in sheet order)
    cells: dict[str, str]
    folder: str
    pages: tuple[Path, ...]


@dataclass
class Plan:
    report: Report
    hoso: dict[str, str] | None = None
    documents: list[PlannedDocument] = field(default_factory=list)


def _natural(name: str) -> list[object]:
    return [int(p) if p.isdigit() else p.casefold() for p in re.split(r"(\d+)", name)]


def document_name(file_code: str, ordinal: int, *, whole: bool = False) -> str:
    """TT 05 Điều 8 khoản 1 điểm d: mã hồ sơ + "." + số thứ tự tài liệu trong hồ sơ; the
    whole hồ sơ digitised as one PDF takes the mã hồ sơ alone."""
    return f"{file_code}.pdf" if whole else f"{file_code}.{ordinal}.pdf"


def check_codes(options: Options, report: Report) -> None:
    """The hồ sơ code (DIG103) and the paper file code (DIG109), when given."""
    try:
        FileCode.parse(options.file_code)
    except KhosoError as exc:
        report.add("DIG103", value=options.file_code, reason=exc.message("en"))
    if options.paper_file_code is not None:
        _check_paper(options.paper_file_code, report)


def _check_paper(value: str, report: Report, where: str = "") -> None:
    try:
        PaperFileCode.parse(value)
    except KhosoError as exc:
        report.add("DIG109", where, value=value, reason=exc.message("en"))


def _sheet(root: Path, report: Report) -> Path | None:
    sheets = sorted(p for p in root.iterdir()
                    if p.is_file() and p.suffix.lower() in SHEET_SUFFIXES)
    if not sheets:
        report.add("DIG100", folder=root.name)
        return None
    if len(sheets) > 1:
        report.add("DIG101", sheets=", ".join(p.name for p in sheets))
        return None
    return sheets[0]


def _pages(root: Path, folder: Path, row: int, report: Report) -> tuple[Path, ...]:
    """The page images of one document's folder in natural order; anything else is DIG107."""
    pages = []
    for entry in sorted(folder.iterdir(), key=lambda p: _natural(p.name)):
        if not _is_page(entry):
            rel = entry.relative_to(root).as_posix()
            report.add("DIG107", rel, file=rel)
        else:
            pages.append(entry)
    if not pages:
        rel = folder.relative_to(root).as_posix()
        report.add("DIG106", rel, folder=rel, row=row)
    return tuple(pages)


def plan_folder(root: Path, options: Options) -> Plan:
    """Read and check the folder: every problem collected with its code, nothing raised."""
    plan = Plan(Report())
    report = plan.report
    check_codes(options, report)
    sheet = _sheet(root, report)
    if sheet is None:
        return plan
    rows = read_sheet(sheet, report)
    if rows is None:
        return plan
    packages = [(n, c) for n, c in rows if c.get(KIND) in PACKAGE_KINDS]
    if len(packages) != 1 or packages[0][1].get(KIND) != "hoso":
        report.add("DIG102", sheet.name, count=sum(1 for _, c in packages
                                                   if c.get(KIND) == "hoso"))
        return plan
    number, hoso = packages[0]
    code = hoso.get("fileCode") or options.file_code
    if code != options.file_code:
        report.add("DIG104", f"{sheet.name}#row={number}", sheet=code, given=options.file_code)
    paper = options.paper_file_code or hoso.get("paperFileCode") or ""
    if options.paper_file_code is None:
        _check_paper(paper, report, f"{sheet.name}#row={number}/paperFileCode") if paper else \
            report.add("DIG109", f"{sheet.name}#row={number}/paperFileCode", value="",
                       reason="missing")
    for n, cells in [(number, hoso), *rows]:
        level = cells.get("confidenceLevel", "")
        if level and level.lstrip("0") != CONFIDENCE_DIGITISED.lstrip("0") and \
                (n == number or cells.get(KIND) in DOCUMENT_KINDS):
            report.add("DIG110", f"{sheet.name}#row={n}/confidenceLevel", row=n, value=level)
    plan.hoso = {**hoso, "fileCode": options.file_code, "paperFileCode": paper,
                 "confidenceLevel": CONFIDENCE_DIGITISED}
    named: set[str] = set()
    doc_rows = [(n, c) for n, c in rows if c.get(KIND) in DOCUMENT_KINDS]
    if not doc_rows:
        report.add("DIG111", sheet.name)
    real = root.resolve()
    whole = len(doc_rows) == 1 and doc_rows[0][1].get(FILE, "").strip() == WHOLE
    for ordinal, (n, cells) in enumerate(doc_rows, 1):
        name = cells.get(FILE, "").strip().strip("/")
        if whole:  # the whole hồ sơ as one PDF: its pages at the top of the folder
            pages = tuple(e for e in sorted(root.iterdir(), key=lambda p: _natural(p.name))
                          if _is_page(e))
            if not pages:
                report.add("DIG106", WHOLE, folder=WHOLE, row=n)
            plan.documents.append(PlannedDocument(n, ordinal, cells, WHOLE, pages))
            continue
        folder = (root / name).resolve() if name else root
        if not name or not folder.is_relative_to(real) or folder == real or \
                (root / name).is_symlink() or not folder.is_dir():
            report.add("DIG105", f"{sheet.name}#row={n}/file", row=n, folder=name)
            continue
        rel = folder.relative_to(real).as_posix()
        named.add(rel.split("/")[0])
        pages = _pages(real, folder, n, report)
        plan.documents.append(PlannedDocument(n, ordinal, cells, rel, pages))
    for entry in sorted(root.iterdir()):
        if entry == sheet:
            continue
        if entry.is_dir() and not entry.is_symlink():
            if entry.name not in named:
                report.add("DIG108", entry.name, folder=entry.name)
        elif not (whole and _is_page(entry)):
            report.add("DIG107", entry.name, file=entry.name)
    return plan


def _is_page(entry: Path) -> bool:
    return not entry.is_symlink() and entry.is_file() and \
        entry.suffix.lower() in IMAGE_SUFFIXES


def _scans_root(source: Path, work: Path, report: Report) -> Path | None:
    """The folder of scans: ``source`` itself, or a ZIP of it unpacked safely into ``work``
    (one top folder inside the ZIP is looked through)."""
    if source.is_symlink() or not source.exists():
        report.add("DIG116", source=source.name, reason="not found")
        return None
    if source.is_dir():
        return source
    unpacked = unpack(source, work / "scans")
    report.extend(unpacked.report.issues)
    if unpacked.root is None or not unpacked.report.ok:
        if not any(i.severity.value == "error" for i in unpacked.report.issues):
            report.add("DIG116", source=source.name, reason="not a ZIP archive")
        return None
    root = unpacked.root
    entries = list(root.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        root = entries[0]
    return root


def already_held(session: Session, archive_code: str, file_code: str) -> str | None:
    """The OBJID of a package already holding this hồ sơ, if any (DIG112)."""
    arc = arc_file_code_of(archive_code, file_code)
    return session.scalar(sa.select(Package.objid).join(
        RecordFile, Package.record_file_id == RecordFile.id).where(
        sa.or_(RecordFile.arc_file_code == arc, RecordFile.file_code == file_code)).limit(1))


def _sheet_rows(plan: Plan, made: list[tuple[PlannedDocument, DigitisedDocument]]
                ) -> list[dict[str, str]]:
    """The SIP sheet naming the PDFs: ``confidenceLevel`` 02 wherever the kind has it, and
    ``numberOfPage`` from the pages digitised when the row left it empty."""
    assert plan.hoso is not None
    rows: list[dict[str, str]] = [{k: v for k, v in plan.hoso.items() if v}]
    for doc, result in made:
        kind = doc.cells.get(KIND, "doc")
        names = {s.name for s in field_specs("SIP", kind)}
        row = {k: v for k, v in doc.cells.items() if v}
        row[FILE] = result.pdf.name
        if "confidenceLevel" in names:
            row["confidenceLevel"] = CONFIDENCE_DIGITISED
        if "numberOfPage" in names and not row.get("numberOfPage"):
            row["numberOfPage"] = str(result.pages)
        if "format" in names and not row.get("format"):
            row.pop("format", None)
        rows.append(row)
    return rows


def _event(options: Options, doc: PlannedDocument, result: DigitisedDocument) -> Event:
    agents: list[tuple[Agent, str]] = []
    if options.scanner:
        agents.append((Agent(options.scanner, options.scanner, "hardware"), "scanner"))
    if options.operator:
        agents.append((Agent(options.operator, options.operator, "person"), "operator"))
    for tool, version in result.tools:
        agents.append((Agent(f"{tool}-{version}", f"{tool} {version}"), "software"))
    timings = ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in result.seconds.items())
    detail = (f"digitization (số hóa): {result.pages} page image(s) of paper file {options.paper_file_code} "
              f"(folder {doc.folder}) -> signed two-layer PDF/A {result.pdf.name}"
              f"{OCR_IN_DETAIL}{result.engine}")
    outcome = "; ".join(filter(None, [
        "tools: " + ", ".join(f"{t} {v}" for t, v in result.tools),
        f"signed by {result.signer}" if result.signer else "", f"timings: {timings}"]))
    return Event(DIGITIZATION, Outcome.SUCCESS, detail, outcome_detail=outcome,
                 object_identifier=f"{REP1}data/{result.pdf.name}", agents=tuple(agents),
                 outcome_data={"pages": result.pages, "seconds": result.seconds,
                               "engine": result.engine, "folder": doc.folder,
                               "paper_file_code": options.paper_file_code})


def _relative(issue: Issue, root: Path) -> Issue:
    """A page's issue naming the page by its path in the folder, not on the archive's disk."""
    def rel(value: Any) -> Any:
        if isinstance(value, str):
            for base in {str(root), str(root.resolve())}:
                if value.startswith(f"{base}/"):
                    return value[len(base) + 1:]
        return value

    return Issue(issue.code, rel(issue.path), {k: rel(v) for k, v in issue.params.items()})


@dataclass
class Digitisation:
    """One digitisation job's state between its first step and its registration."""

    options: Options
    digitiser: Digitiser
    agency_name: str
    texts: dict[str, DigitisedDocument] = field(default_factory=dict)  # PDF name -> result

    def step(self, ctx: IngestContext) -> StepResult:
        report = Report()
        work = ctx.workspace / "digitise"
        root = _scans_root(ctx.source, work, report)
        if root is None:
            return self._refused(ctx, report)
        plan = plan_folder(root, self.options)
        report.extend(plan.report.issues)
        self._check_catalog(ctx, report)
        if not report.ok or plan.hoso is None:
            return self._refused(ctx, report)
        options = dataclasses.replace(self.options,
                                      paper_file_code=plan.hoso["paperFileCode"])
        for doc in plan.documents:  # every page of every document, before any OCR
            self._guard(doc, root, report, partial(self.digitiser.check, doc.pages))
        if not report.ok:
            return self._refused(ctx, report)
        pdfs = work / "pdf"
        pdfs.mkdir(parents=True)
        made: list[tuple[PlannedDocument, DigitisedDocument]] = []
        for doc in plan.documents:
            out = pdfs / document_name(options.file_code, doc.ordinal,
                                       whole=doc.folder == WHOLE)
            result = self._guard(doc, root, report, partial(self.digitiser, doc.pages, out))
            if result is not None:
                made.append((doc, result))
        if not report.ok:
            return self._refused(ctx, report)
        sheet = work / "sheet.json"
        sheet.write_text(json.dumps(_sheet_rows(plan, made), ensure_ascii=False),
                         encoding="utf-8")
        organ = FileCode.parse(options.file_code).organ_id
        built = try_build_sip(pdfs, sheet, work / "sip", organ_id=organ,
                              agency_name=self._agency(ctx, organ),
                              fond_code=options.fond_code)
        report.extend(built.report.issues)
        if built.out is None:
            return self._refused(ctx, report)
        self.texts = {result.pdf.name: result for _, result in made}
        ctx.source = built.out  # the pipeline goes on from ``receive`` with the SIP bag
        return StepResult.of(report, [_event(options, d, r) for d, r in made])

    @staticmethod
    def _guard(doc: PlannedDocument, root: Path, report: Report,
               run: Callable[[], T]) -> T | None:
        """``run``'s result; a refusal of the pages reported (DIG115 and the page's own codes,
        paths relative to the folder); the archive's own failures raised for a retry."""
        try:
            return run()
        except KhosoError as exc:
            if exc.transient:
                raise
            report.add("DIG115", doc.folder, row=doc.row, folder=doc.folder,
                       reason=f"{exc.code}: {exc.message('en')}")
            report.extend(_relative(i, root) for i in getattr(exc, "report", Report()).issues)
        except (OSError, subprocess.SubprocessError) as exc:
            raise Unavailable("DIG114", retry_after=60, document=doc.folder,
                              reason=f"{type(exc).__name__}: {exc}"[:300]) from exc
        return None

    def _refused(self, ctx: IngestContext, report: Report) -> StepResult:
        codes = "; ".join(sorted(report.codes())) or "refused"
        return StepResult.of(report, [Event(DIGITIZATION, Outcome.FAILURE,
                                            f"digitization of hồ sơ {self.options.file_code} refused",
                                            outcome_detail=codes,
                                            object_identifier=ctx.job_id)])

    def _check_catalog(self, ctx: IngestContext, report: Report) -> None:
        if ctx.catalog is None or any(i.code == "DIG103" for i in report):
            return
        with ctx.catalog.session() as s:
            objid = already_held(s, ctx.settings.archive_code, self.options.file_code)
        if objid is not None:
            report.add("DIG112", file_code=self.options.file_code, objid=objid)

    def _agency(self, ctx: IngestContext, organ: str) -> str:
        """The agency the hồ sơ's code names, as registered; else the digitising archive."""
        if ctx.catalog is not None:
            with ctx.catalog.session() as s:
                name = s.scalar(sa.select(Agency.name).where(Agency.organ_id == organ))
            if name:
                return str(name)
        return self.agency_name

    def on_register(self, session: Session, ctx: IngestContext, package_id: int,
                    documents: dict[str, int]) -> None:
        """The OCR text beside each digitised document, in the registering transaction (the
        search index is built right after, from it)."""
        rows = []
        for path, document_id in documents.items():
            result = self.texts.get(Path(path).name)
            if result is not None and path.startswith(f"data/{REP1}data/"):
                rows.append({"document_id": document_id, "package_id": package_id,
                             "pages": result.pages, "engine": result.engine[:200],
                             "text": result.text})
        if rows:
            session.execute(sa.insert(DocumentOcrText), rows)


def stored_ocr_text(pdf: Path, detail: str, work: Path) -> tuple[int, str, str]:
    """What ``on_register`` stored for a digitised document (pages, engine, text), read back
    from its AIP for a catalog rebuild: the signed PDF/A's text layer without the signature's
    stamp, and the engine its digitization event names. ``Unavailable`` when a tool fails."""
    from ingest.digitise.pdfa import unsigned_page_texts

    texts = unsigned_page_texts(pdf, work)
    engine = detail.rpartition(OCR_IN_DETAIL)[2] if OCR_IN_DETAIL in detail else ""
    return len(texts), engine[:200], PAGE_BREAK.join(texts)


def production_digitiser(settings: Settings) -> Digitiser:
    """``make_pdf`` of :mod:`ingest.digitise` with the archive's key and name."""
    from ingest.digitise.adapter import digitiser

    return digitiser(settings)


def prepare(payload: dict[str, Any], settings: Settings, services: Services, *,
            digitiser: Digitiser | None = None) -> tuple[tuple[Step, ...], Services]:
    """The steps and services of a digitisation job: ``digitise`` then the ingest's own."""
    from ingest.pipeline import STEPS

    options = Options.from_payload(payload)
    state = Digitisation(options, digitiser or production_digitiser(settings),
                         settings.archive_name)
    step = Step("digitise", DIGITIZATION, state.step)
    after = services.on_register  # the archive's own hook (the paper queue), kept

    def on_register(session: Session, ctx: IngestContext, package_id: int,
                    documents: dict[str, int]) -> None:
        state.on_register(session, ctx, package_id, documents)
        if after is not None:
            after(session, ctx, package_id, documents)

    changed: dict[str, Any] = {"on_register": on_register}
    if isinstance(services.pdf_verifier, PdfSignatureVerifier):
        # the archive signed these PDFs itself: its own certificate is a trust root for them
        own = load_signer(Path(settings.keys_dir)).certificate
        changed["pdf_verifier"] = PdfSignatureVerifier(
            [*services.pdf_verifier.trust_roots, own])
    return (step, *STEPS), dataclasses.replace(services, **changed)
