"""Cross-field rules of TT 05 (§3.2, §3.3, §17.2) that an XSD cannot express.

Each rule has its own issue code so a caller (and a test) can tell exactly which one failed.
Rules run on a typed ``EadRecord`` (after ``read_ead``); a value that failed to read is simply
absent, so a rule never reports twice what the reader already reported.
"""

from __future__ import annotations

from collections.abc import Callable

from preservation.errors import KhosoError
from preservation.issues import Report
from preservation.metadata.codelists import codelist, field_specs
from preservation.metadata.dates import TTDate
from preservation.metadata.ead import ROOT, EadRecord
from preservation.metadata.identifiers import (
    ArcDocCode,
    ArcFileCode,
    DocCode,
    DocId,
    FileCode,
    PaperFileCode,
    SipTailieuCode,
)

HISTORICAL = "lich_su"
_Parser = Callable[[str], object]


def _path(name: str) -> str:
    return f"/{ROOT}/{name}"


def _identifier_parsers(record: EadRecord) -> dict[str, _Parser]:
    """Which identifier class checks which element, per package and kind.

    AIP_tailieu ``arcFileCode`` has no structure we can check beyond its length (§3.4).
    """
    parsers: dict[str, _Parser] = {"paperFileCode": PaperFileCode.parse, "docId": DocId.parse}
    if record.kind == "tailieu":
        if record.package == "SIP":
            parsers["fileCode"] = SipTailieuCode.parse
    else:
        parsers["fileCode"] = FileCode.parse
        parsers["arcFileCode"] = ArcFileCode.parse
    parsers["arcDocCode"] = ArcDocCode.parse
    parsers["docCode"] = ArcDocCode.parse if record.package == "AIP" else DocCode.parse
    return parsers


def _check_identifiers(record: EadRecord, report: Report) -> dict[str, object]:
    parsed: dict[str, object] = {}
    for name, parse in _identifier_parsers(record).items():
        text = record.values.get(name)
        if not isinstance(text, str):
            continue
        try:
            parsed[name] = parse(text)
        except KhosoError as exc:
            report.add(exc.code, _path(name), **exc.issue.params)
    return parsed


def _check_codes_agree(record: EadRecord, parsed: dict[str, object], report: Report) -> None:
    doc_id, doc_code = parsed.get("docId"), parsed.get("docCode")
    if isinstance(doc_id, DocId) and isinstance(doc_code, DocCode):
        if (doc_id.file_code, doc_id.ordinal) != (doc_code.file_code, doc_code.ordinal):
            report.add("EAD027", _path("docId"), doc_id=doc_id, doc_code=doc_code)
    if isinstance(doc_code, ArcDocCode):  # AIP EAD_doc: docCode, arcFileCode and docOrdinal
        arc = record.values.get("arcFileCode")
        if isinstance(arc, str) and str(doc_code.arc_file_code) != arc:
            report.add("EAD024", _path("docCode"), doc_code=doc_code, file_code=arc)
        ordinal = record.values.get("docOrdinal")
        if isinstance(ordinal, int) and ordinal != doc_code.ordinal:
            report.add("EAD028", _path("docOrdinal"), ordinal=ordinal, doc_code=doc_code)


def check_rules(record: EadRecord, *, destination: str | None = None) -> Report:
    """Conditional requirements, date order, identifier syntax and, when ``destination`` is
    given ("hien_hanh" | "lich_su"), the historical-archive retention rule."""
    report = Report()
    values = record.values
    names = {s.name for s in field_specs(record.package, record.kind)}
    confidence = values.get("confidenceLevel")
    if confidence == "02" and "paperFileCode" in names and "paperFileCode" not in values:
        report.add("EAD020", _path("paperFileCode"))
    if confidence == "02" and "numberOfPaper" in names and "numberOfPaper" not in values:
        report.add("EAD023", _path("numberOfPaper"))
    if values.get("riskRecovery") is True and "riskRecoveryStatus" not in values:
        report.add("EAD021", _path("riskRecoveryStatus"))
    if record.kind == "doc" and confidence in ("01", "03") and "process" not in values:
        report.add("EAD022", _path("process"), confidenceLevel=confidence)
    if destination is not None:
        if destination not in codelist("archiveBodyKind"):
            report.add("RET005", "", destination=destination)
        elif destination == HISTORICAL and values.get("maintenance", "01") != "01":
            report.add("RET003", _path("maintenance"), maintenance=values["maintenance"])
    start, end = values.get("startDate"), values.get("endDate")
    if isinstance(start, TTDate) and isinstance(end, TTDate) and start.first_day() > end.last_day():
        report.add("DATE005", _path("startDate"), start=start, end=end)
    _check_codes_agree(record, _check_identifiers(record, report), report)
    return report


def _prefix(code: object) -> str | None:
    return code.rpartition(".")[0] if isinstance(code, str) else None


def check_document_in_file(file_record: EadRecord, doc_record: EadRecord) -> Report:
    """A document's codes must start with its file's code. Ordinal uniqueness needs all
    documents at once and is the caller's job."""
    report = Report()
    file_code = file_record.values.get("fileCode", file_record.values.get("arcFileCode"))
    if not isinstance(file_code, str):
        return report
    doc = doc_record.values
    doc_code = doc.get("docCode", doc.get("arcDocCode"))
    if doc_code is not None and _prefix(doc_code) != file_code:
        report.add("EAD024", _path("docCode"), doc_code=doc_code, file_code=file_code)
    arc = doc.get("arcFileCode")
    if isinstance(arc, str) and arc != file_code:
        report.add("EAD024", _path("arcFileCode"), doc_code=arc, file_code=file_code)
    doc_id = doc.get("docId")
    if doc_id is not None and _prefix(doc_id) != file_code:
        report.add("EAD025", _path("docId"), doc_id=doc_id, file_code=file_code)
    return report


def check_total_doc(file_record: EadRecord, document_count: int) -> Report:
    """``totalDoc`` must equal the number of documents actually in the package."""
    report = Report()
    declared = file_record.values.get("totalDoc")
    if isinstance(declared, int) and declared != document_count:
        report.add("EAD026", _path("totalDoc"), declared=declared, actual=document_count)
    return report
