"""OAI-PMH 2.0 data provider over the public hồ sơ (``mode`` 01) of the current AIP versions.

Harvesters (aggregators, union catalogues) copy our metadata; what they copy is public for
good, so only records every reader may see are disseminated, and only as Dublin Core
(``oai_dc``). A hồ sơ of mode 02 or 03 never appears, not even as a count.

- identifier ``oai:{archive code}:{arcFileCode}``; datestamp: when its current AIP version was
  registered (a metadata correction makes a new one), in UTC to the second;
- one set per fonds (``setSpec`` = fond code) that holds a public record;
- resumption tokens are stateless: the list's arguments, the position after the last record
  sent (its registration time and id: records added meanwhile never shift a page) and a check
  digest, base64url-encoded; no state is kept on the server, a token does not expire; the
  digest is a check, not a secret, so a position we never issue (a negative cursor) is refused;
- ``deletedRecord`` is ``no``: a record withdrawn from the public (its mode changed) simply
  stops appearing.

The protocol's errors are answered with HTTP 200 and ``<error code=…>`` elements, as the
protocol wants (§3.6); each carries one of our issue codes' messages, Vietnamese then English.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from lxml import etree

from access_api.services.base import ServiceContext
from preservation.catalog.models import Agency, Fonds, Package, RecordFile
from preservation.catalog.vocab import AccessMode, PackageKind, PackageStatus
from preservation.issues import Issue, Text
from preservation.metadata.codelists import codelist

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
PREFIX = "oai_dc"
PAGE_SIZE = 100
SECONDS = "%Y-%m-%dT%H:%M:%SZ"
SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")

# the arguments each verb takes: required, optional, exclusive (resumptionToken)
VERBS: dict[str, tuple[frozenset[str], frozenset[str], str | None]] = {
    "Identify": (frozenset(), frozenset(), None),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"}), None),
    "ListSets": (frozenset(), frozenset(), "resumptionToken"),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset(), None),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}),
                        "resumptionToken"),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}),
                    "resumptionToken"),
}
ERROR_CODES = {"OAI001": "badVerb", "OAI002": "badArgument", "OAI003": "badResumptionToken",
               "OAI004": "cannotDisseminateFormat", "OAI005": "idDoesNotExist",
               "OAI006": "noRecordsMatch", "OAI007": "noSetHierarchy"}
# TT 05 language codes (§3.6.3) as ISO 639-1, for dc:language
ISO_LANGUAGES = {"01": ("vi",), "02": ("en",), "03": ("fr",), "04": ("ru",), "05": ("zh",),
                 "06": ("vi", "en"), "07": ("vi", "ru"), "08": ("vi", "fr"), "10": ("vi", "zh")}


class OaiError(Exception):
    """One protocol error; ``echo`` says whether the request's arguments are echoed (not for
    badVerb and badArgument, §3.6)."""

    def __init__(self, code: str, *, echo: bool = True, **params: Any) -> None:
        super().__init__(code)
        self.issue = Issue(code, "", params)
        self.echo = echo

    @property
    def oai_code(self) -> str:
        return ERROR_CODES[self.issue.code]


def _bad(vi: str, en: str) -> OaiError:
    return OaiError("OAI002", echo=False, problem=Text(vi, en))


@dataclass(frozen=True)
class Window:
    """The selective-harvesting arguments of a list request: ``until`` exclusive."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    set_spec: str | None = None


@dataclass(frozen=True)
class Position:
    """Where a list resumes: after the record registered at ``at`` with package id ``pid``."""

    at: dt.datetime
    pid: int
    cursor: int


# -- arguments ------------------------------------------------------------------------------

def parse_datestamp(text: str, name: str) -> tuple[dt.datetime, bool]:
    """(the instant, whether it is day granularity); ``badArgument`` for anything else."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.UTC), True
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", text):
            return dt.datetime.strptime(text, SECONDS).replace(tzinfo=dt.UTC), False
    except ValueError:
        pass
    raise _bad(f"«{name}» phải có dạng YYYY-MM-DD hoặc YYYY-MM-DDThh:mm:ssZ (UTC)",
               f"'{name}' must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC)")


def window(args: Mapping[str, str]) -> Window:
    start = end = None
    days: list[bool] = []
    if "from" in args:
        start, day = parse_datestamp(args["from"], "from")
        days.append(day)
    if "until" in args:
        until, day = parse_datestamp(args["until"], "until")
        days.append(day)
        end = until + (dt.timedelta(days=1) if day else dt.timedelta(seconds=1))
    if len(set(days)) > 1:
        raise _bad("«from» và «until» phải cùng độ chi tiết (ngày hoặc giây)",
                   "'from' and 'until' must have the same granularity")
    if start is not None and end is not None and start >= end:
        raise _bad("«from» sau «until»", "'from' is later than 'until'")
    set_spec = args.get("set")
    if set_spec is not None and not SET_SPEC.fullmatch(set_spec):
        raise _bad("«set» không phải một setSpec hợp lệ", "'set' is not a valid setSpec")
    return Window(start, end, set_spec)


def single_values(args: Mapping[str, Sequence[str]]) -> tuple[str, dict[str, str]]:
    """The verb and its arguments, each given once and known to the verb."""
    verbs = list(args.get("verb", []))
    if len(verbs) != 1 or verbs[0] not in VERBS:
        raise OaiError("OAI001", echo=False, verb=", ".join(verbs)[:100])
    verb = verbs[0]
    repeated = sorted(k for k, v in args.items() if len(v) > 1)
    if repeated:
        raise _bad(f"tham số lặp lại: {', '.join(repeated)[:200]}",
                   f"repeated argument: {', '.join(repeated)[:200]}")
    values = {k: v[0] for k, v in args.items() if k != "verb"}
    required, optional, exclusive = VERBS[verb]
    unknown = sorted(set(values) - required - optional - ({exclusive} if exclusive else set()))
    if unknown:
        raise _bad(f"{verb} không nhận tham số {', '.join(unknown)[:200]}",
                   f"{verb} takes no argument {', '.join(unknown)[:200]}")
    if exclusive and exclusive in values:
        if len(values) > 1:
            raise _bad("resumptionToken phải đứng một mình",
                       "resumptionToken is an exclusive argument")
        return verb, values
    missing = sorted(required - set(values))
    if missing:
        raise _bad(f"{verb} cần tham số {', '.join(missing)}",
                   f"{verb} requires {', '.join(missing)}")
    return verb, values


# -- resumption tokens ----------------------------------------------------------------------

def _digest(body: bytes) -> str:
    return hashlib.sha256(b"khoso-oai:" + body).hexdigest()[:16]


def make_token(verb: str, prefix: str, args: Mapping[str, str], pos: Position) -> str:
    body = json.dumps({"v": verb, "m": prefix, "a": {k: args[k] for k in sorted(args)},
                       "t": pos.at.isoformat(), "i": pos.pid, "c": pos.cursor},
                      separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(body).decode().rstrip("=") + "." + _digest(body)


def read_token(token: str, verb: str) -> tuple[str, dict[str, str], Position]:
    """(metadataPrefix, the list's arguments, where to resume); ``badResumptionToken`` for
    anything we did not issue for this verb."""
    bad = OaiError("OAI003", token=token[:100])
    encoded, _, digest = token.partition(".")
    try:
        body = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        if len(token) > 2000 or _digest(body) != digest:
            raise bad
        data = json.loads(body)
        args = {str(k): str(v) for k, v in data["a"].items()}
        at = dt.datetime.fromisoformat(data["t"])
        pos = Position(at if at.tzinfo else at.replace(tzinfo=dt.UTC), int(data["i"]),
                       int(data["c"]))
        if data["v"] != verb or data["m"] != PREFIX or not set(args) <= {"from", "until",
                                                                          "set"}:
            raise bad
        if pos.pid < 0 or pos.cursor < 0:  # the digest is a check, not a secret: what we
            raise bad                      # never issue must not reach cursor="-5"
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        raise bad from None
    return data["m"], args, pos


# -- the catalog ----------------------------------------------------------------------------

@dataclass(frozen=True)
class PublicRecord:
    pid: int
    at: dt.datetime
    record: RecordFile
    fond_code: str
    fond_name: str
    agency: str | None


def _public() -> Any:  # a Select of (id, created_at, RecordFile, code, name, agency)
    """Public hồ sơ with the current (active) version of their AIP and their fonds."""
    return (sa.select(Package.id, Package.created_at, RecordFile, Fonds.fond_code,
                      Fonds.fond_name, Agency.name)
            .join(RecordFile, RecordFile.id == Package.record_file_id)
            .join(Fonds, Fonds.id == RecordFile.fonds_id)
            .outerjoin(Agency, Agency.id == Package.agency_id)
            .where(Package.kind == PackageKind.AIP, Package.status == PackageStatus.ACTIVE,
                   RecordFile.mode == AccessMode.PUBLIC, RecordFile.arc_file_code.is_not(None)))


def _in(query: Any, win: Window) -> Any:
    if win.start is not None:
        query = query.where(Package.created_at >= win.start)
    if win.end is not None:
        query = query.where(Package.created_at < win.end)
    if win.set_spec is not None:
        query = query.where(Fonds.fond_code == win.set_spec)
    return query


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _rows(rows: Sequence[Any]) -> list[PublicRecord]:
    return [PublicRecord(pid, _utc(at), rf, code, name, agency)
            for pid, at, rf, code, name, agency in rows]


# -- the response ---------------------------------------------------------------------------

def datestamp(value: dt.datetime) -> str:
    return _utc(value).strftime(SECONDS)


class Response:
    """One OAI-PMH response document."""

    def __init__(self, base_url: str, now: dt.datetime) -> None:
        self.root = etree.Element(f"{{{OAI_NS}}}OAI-PMH", nsmap={None: OAI_NS, "xsi": XSI_NS})
        self.root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} {OAI_SCHEMA}")
        self.sub(self.root, "responseDate", datestamp(now))
        self.request = self.sub(self.root, "request", base_url)

    @staticmethod
    def sub(parent: etree._Element, name: str, text: str | None = None,
            ns: str = OAI_NS) -> etree._Element:
        el = etree.SubElement(parent, f"{{{ns}}}{name}")
        if text is not None:
            el.text = _xml_text(text)
        return el

    def echo(self, verb: str, args: Mapping[str, str]) -> None:
        """The request's arguments as attributes, those of a value their type admits (an
        unknown metadataPrefix is echoed only when it is a well-formed one)."""
        self.request.set("verb", verb)
        for k in sorted(args):
            if k in ("metadataPrefix", "set") and not SET_SPEC.fullmatch(args[k]):
                continue
            self.request.set(k, _xml_text(args[k]))

    def error(self, exc: OaiError) -> None:
        el = self.sub(self.root, "error",
                      f"{exc.issue.message('vi')} / {exc.issue.message('en')}")
        el.set("code", exc.oai_code)

    def body(self) -> bytes:
        out: bytes = etree.tostring(self.root, xml_declaration=True, encoding="UTF-8")
        return out


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """Characters XML 1.0 cannot carry (an echoed argument may hold anything) dropped."""
    return _NOT_XML.sub("", text)


def _iso_date(text: str | None) -> str | None:
    if not text:
        return None
    m = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", text.strip())
    return f"{m[3]}-{m[2]}-{m[1]}" if m else text.strip()


class Provider:
    """Answers one request (``handle``) for the archive of ``ctx``."""

    def __init__(self, ctx: ServiceContext, base_url: str, *, page_size: int = PAGE_SIZE,
                 now: dt.datetime | None = None) -> None:
        self.ctx, self.base_url, self.page_size = ctx, base_url, page_size
        self.now = now or dt.datetime.now(dt.UTC)
        s = ctx.settings
        self.archive_code, self.archive_name = s.archive_code, s.archive_name

    def identifier(self, record: RecordFile) -> str:
        return f"oai:{self.archive_code}:{record.arc_file_code}"

    def handle(self, args: Mapping[str, Sequence[str]]) -> bytes:
        out = Response(self.base_url, self.now)
        try:
            verb, values = single_values(args)
        except OaiError as exc:
            out.error(exc)
            return out.body()
        try:
            getattr(self, f"_{verb}")(out, values)
            out.echo(verb, values)
        except OaiError as exc:
            if exc.echo:
                out.echo(verb, values)
            for child in list(out.root)[2:]:
                out.root.remove(child)
            out.error(exc)
        return out.body()

    # verbs ----------------------------------------------------------------------------------

    def _Identify(self, out: Response, args: Mapping[str, str]) -> None:
        with self.ctx.catalog.session() as session:  # of public records: nothing else shows
            public = _public().subquery()
            earliest = session.scalar(sa.select(sa.func.min(public.c.created_at)))
        el = out.sub(out.root, "Identify")
        out.sub(el, "repositoryName", self.archive_name)
        out.sub(el, "baseURL", self.base_url)
        out.sub(el, "protocolVersion", "2.0")
        out.sub(el, "adminEmail", f"admin@{self.archive_code.lower()}.invalid")
        out.sub(el, "earliestDatestamp",
                datestamp(earliest) if earliest else "1970-01-01T00:00:00Z")
        out.sub(el, "deletedRecord", "no")
        out.sub(el, "granularity", "YYYY-MM-DDThh:mm:ssZ")

    def _ListMetadataFormats(self, out: Response, args: Mapping[str, str]) -> None:
        if "identifier" in args:
            self._one(args["identifier"])
        el = out.sub(out.sub(out.root, "ListMetadataFormats"), "metadataFormat")
        out.sub(el, "metadataPrefix", PREFIX)
        out.sub(el, "schema", OAI_DC_SCHEMA)
        out.sub(el, "metadataNamespace", OAI_DC_NS)

    def _ListSets(self, out: Response, args: Mapping[str, str]) -> None:
        if "resumptionToken" in args:  # every set fits in one response: we issue none
            raise OaiError("OAI003", token=args["resumptionToken"][:100])
        with self.ctx.catalog.session() as session:
            public = _public().subquery()
            sets = session.execute(sa.select(public.c.fond_code, public.c.fond_name)
                                   .distinct().order_by(public.c.fond_code)).all()
        valid = [(code, name) for code, name in sets if SET_SPEC.fullmatch(code)]
        if not valid:
            raise OaiError("OAI007")
        el = out.sub(out.root, "ListSets")
        for code, name in valid:
            item = out.sub(el, "set")
            out.sub(item, "setSpec", code)
            out.sub(item, "setName", name)

    def _GetRecord(self, out: Response, args: Mapping[str, str]) -> None:
        self._format(args["metadataPrefix"])
        record = self._one(args["identifier"])
        self._record(out.sub(out.root, "GetRecord"), out, record, with_metadata=True)

    def _ListIdentifiers(self, out: Response, args: Mapping[str, str]) -> None:
        self._list(out, args, "ListIdentifiers", with_metadata=False)

    def _ListRecords(self, out: Response, args: Mapping[str, str]) -> None:
        self._list(out, args, "ListRecords", with_metadata=True)

    # helpers --------------------------------------------------------------------------------

    @staticmethod
    def _format(prefix: str) -> None:
        if prefix != PREFIX:
            raise OaiError("OAI004", prefix=prefix[:100])

    def _one(self, identifier: str) -> PublicRecord:
        head = f"oai:{self.archive_code}:"
        code = identifier[len(head):] if identifier.startswith(head) else None
        if code and len(code) <= 100 and not _NOT_XML.search(code):
            with self.ctx.catalog.session() as session:
                rows = _rows(session.execute(_public().where(
                    RecordFile.arc_file_code == code)).all())
            if rows:
                return rows[0]
        raise OaiError("OAI005", identifier=identifier[:200])

    def _list(self, out: Response, args: Mapping[str, str], verb: str, *,
              with_metadata: bool) -> None:
        pos: Position | None = None
        if "resumptionToken" in args:
            _, list_args, pos = read_token(args["resumptionToken"], verb)
            try:
                win = window(list_args)
            except OaiError:  # arguments we never put in a token
                raise OaiError("OAI003", token=args["resumptionToken"][:100]) from None
        else:
            self._format(args["metadataPrefix"])
            list_args = {k: v for k, v in args.items() if k in ("from", "until", "set")}
            win = window(list_args)
        query = _in(_public(), win)
        with self.ctx.catalog.session() as session:
            total = session.scalar(sa.select(sa.func.count()).select_from(
                query.subquery())) or 0
            page = query
            if pos is not None:
                page = page.where(sa.or_(Package.created_at > pos.at, sa.and_(
                    Package.created_at == pos.at, Package.id > pos.pid)))
            rows = _rows(session.execute(page.order_by(Package.created_at, Package.id)
                                         .limit(self.page_size)).all())
        if not rows:
            if pos is not None:  # the list shrank under the harvester: the token is stale
                raise OaiError("OAI003", token=args["resumptionToken"][:100])
            raise OaiError("OAI006")
        el = out.sub(out.root, verb)
        for row in rows:
            if with_metadata:
                self._record(el, out, row, with_metadata=True)
            else:
                self._header(el, out, row)
        cursor = pos.cursor if pos is not None else 0
        sent = cursor + len(rows)
        if pos is None and sent >= total:
            return  # a complete list in one response: no token at all
        token = out.sub(el, "resumptionToken")
        token.set("completeListSize", str(max(total, sent)))
        token.set("cursor", str(cursor))
        if sent < total:
            last = rows[-1]
            token.text = make_token(verb, PREFIX, list_args, Position(last.at, last.pid, sent))

    def _header(self, parent: etree._Element, out: Response, row: PublicRecord) -> None:
        header = out.sub(parent, "header")
        out.sub(header, "identifier", self.identifier(row.record))
        out.sub(header, "datestamp", datestamp(row.at))
        if SET_SPEC.fullmatch(row.fond_code):
            out.sub(header, "setSpec", row.fond_code)

    def _record(self, parent: etree._Element, out: Response, row: PublicRecord, *,
                with_metadata: bool) -> None:
        record = out.sub(parent, "record")
        self._header(record, out, row)
        if with_metadata:
            self._dublin_core(out.sub(record, "metadata"), row)

    def _dublin_core(self, parent: etree._Element, row: PublicRecord) -> None:
        rf = row.record
        dc = etree.SubElement(parent, f"{{{OAI_DC_NS}}}dc",
                              nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS})
        dc.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} {OAI_DC_SCHEMA}")

        def add(name: str, text: str | None, lang: str | None = None) -> None:
            if text:
                el = Response.sub(dc, name, text, ns=DC_NS)
                if lang:
                    el.set(f"{{{XML_NS}}}lang", lang)

        add("title", rf.title, "vi")
        add("creator", row.agency or row.fond_name, "vi")
        add("subject", rf.keyword, "vi")
        add("description", rf.description, "vi")
        add("publisher", self.archive_name, "vi")
        start, end = _iso_date(rf.start_date), _iso_date(rf.end_date)
        add("date", f"{start}/{end}" if start and end and start != end else start or end)
        add("type", "Collection")
        add("type", "hồ sơ lưu trữ", "vi")
        languages = codelist("language")
        for code in rf.languages or []:
            for iso in ISO_LANGUAGES.get(code, ()):
                add("language", iso)
            if code not in ISO_LANGUAGES and code in languages:
                add("language", languages.label(code, "en"))
        add("identifier", rf.arc_file_code)
        add("identifier", rf.file_code)
        mode = codelist("mode")
        if rf.mode in mode:
            add("rights", f"{mode.label(rf.mode, 'vi')} (chế độ sử dụng {rf.mode})", "vi")
            add("rights", f"{mode.label(rf.mode, 'en')} (access level {rf.mode})", "en")


def handle(ctx: ServiceContext, args: Mapping[str, Sequence[str]], base_url: str, *,
           page_size: int = PAGE_SIZE, now: dt.datetime | None = None) -> bytes:
    """The response document to one OAI-PMH request (``args``: every value of every argument,
    from the query string or the form body). Anonymous: only public records exist here."""
    return Provider(ctx, base_url, page_size=page_size, now=now).handle(args)
