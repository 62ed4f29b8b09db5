"""A document's files for those who may have them: verified bytes, and marked copies of PDFs.

``locate`` decides (no storage read): the document exists for the caller, the name is one of
its files, and the caller may receive the content (mode 02: an approved request, ``ACS001``
otherwise). ``fetch`` gets the verified bytes (``access_api.services.delivery``) and writes the
access register before anything is sent: DOWNLOAD for an attachment, VIEW for a reading copy
shown inline, with the request and its purpose when one opened the document. ``make_copy``
marks a PDF "BẢN SAO" (``access_api.services.stamp``) and registers a COPY.

Names: a file is named in URLs by the last segment of its path in the AIP (NFC, as the AIP
stores it); a name that arrives decomposed (NFD, as macOS writes it) is the same name. A name
is only ever compared with the catalog's names of that document's files, never joined to a
path, so nothing outside them can be reached; ``..``, ``/``, ``\\`` and control characters are
refused before the lookup (``ACS002``).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from typing import Any, BinaryIO

from access_api.services.base import Identity, ServiceContext
from access_api.services.catalog import (
    Access,
    bitstream_file,
    content_bitstreams,
    doc_code,
    document_for,
    file_name,
)
from access_api.services.delivery import Delivered, StoredFile, deliver
from access_api.services.stamp import StampError, stamp_copy
from access_api.services.stream import Streamed, open_file
from preservation.catalog import access_register
from preservation.catalog.models import Package
from preservation.catalog.vocab import AccessAction, AccessMode
from preservation.errors import Conflict, Forbidden, KhosoError, NotFound
from preservation.issues import Noun

PDF = "application/pdf"


@dataclass(frozen=True)
class FileTarget:
    """One file the caller may receive, before any byte of it is read."""

    doc_code: str
    name: str
    sha256: str
    size: int
    mime: str
    created_at: dt.datetime
    file: StoredFile
    access: Access


def check_name(name: str) -> str:
    """The name in NFC; ``ACS002`` for one that could name a path rather than a file."""
    if (not name or name in (".", "..") or "/" in name or "\\" in name
            or any(unicodedata.category(c) == "Cc" for c in name)):
        raise KhosoError("ACS002", "name", name=name.encode("unicode_escape").decode("ascii"))
    return unicodedata.normalize("NFC", name)


def locate(ctx: ServiceContext, identity: Identity, code: str, name: str) -> FileTarget:
    """The file ``name`` of document ``code`` if the caller may receive it: ``NotFound`` for a
    document they may not see or a name it has not, ``ACS001`` (403) for a mode 02 document
    without an approved request."""
    wanted = check_name(name)
    with ctx.catalog.session() as s:
        d, access = document_for(s, ctx, identity, code)
        code_ = doc_code(d)
        match = next((b for b in content_bitstreams(s, d) if file_name(b.path) == wanted), None)
        if match is None:
            raise NotFound("GEN002", what=Noun.FILE, key=f"{code_}/{wanted}")
        if not access.content(identity):
            raise Forbidden("ACS001", code_, doc=code_, mode=access.mode or AccessMode.SECRET)
        objid = s.get_one(Package, match.package_id).objid
        stored = bitstream_file(s, match, objid, wanted)
        return FileTarget(code_, wanted, match.sha256, match.size,
                          match.mime or "application/octet-stream", match.created_at, stored,
                          access)


def fetch(ctx: ServiceContext, identity: Identity, target: FileTarget, *, inline: bool,
          start: int = 0, end: int | None = None, **detail: Any) -> Delivered | Streamed:
    """The verified bytes ``[start, end)``, opened (a cached file, or a stream verified block
    by block: ``access_api.services.stream``), once the access register holds the download (or
    the view of a reading copy); nothing is registered when no intact copy could be read."""
    delivered = open_file(ctx, identity, target.file, start, end)
    try:
        with ctx.catalog.session() as s:
            access_register.record(
                s, identity.actor, AccessAction.VIEW if inline else AccessAction.DOWNLOAD,
                "document", target.doc_code, purpose=target.access.purpose,
                request_id=target.access.request_id, name=target.name, sha256=target.sha256,
                **detail)
    except BaseException:
        if isinstance(delivered, Streamed):
            delivered.close()
        else:
            delivered.file.close()
        raise
    return delivered


@dataclass(frozen=True)
class Copy:
    """A marked copy, open for reading (its file is already unlinked)."""

    file: BinaryIO
    size: int
    name: str
    pages: int


def make_copy(ctx: ServiceContext, identity: Identity, code: str, name: str,
              today: dt.date | None = None) -> Copy:
    """A dissemination copy of a PDF: every page marked "BẢN SAO" with the archive's name and
    the date, made from the verified bytes; the stored original is never touched. ``ACS005``
    for a file that is not a PDF, ``ACS006`` for one that cannot be marked."""
    target = locate(ctx, identity, code, name)
    if target.mime != PDF:
        raise Conflict("ACS005", target.name, name=target.name, mime=target.mime)
    today = today or dt.datetime.now(dt.UTC).date()
    delivered = deliver(ctx, identity, target.file)
    out = tempfile.TemporaryFile(dir=ctx.settings.data_dir / "cache" / "tmp")
    try:
        with delivered.file as original:
            pages = stamp_copy(original, out, archive_name=ctx.settings.archive_name, date=today)
        size = out.tell()
        out.seek(0)
        with ctx.catalog.session() as s:
            access_register.record(s, identity.actor, AccessAction.COPY, "document",
                                   target.doc_code, purpose=target.access.purpose,
                                   request_id=target.access.request_id, name=target.name,
                                   sha256=target.sha256, pages=pages)
    except StampError as exc:
        out.close()
        raise Conflict("ACS006", target.name, name=target.name, reason=exc.reason) from None
    except BaseException:
        out.close()
        raise
    stem, ext = os.path.splitext(target.name)
    return Copy(out, size, f"{stem}.ban-sao{ext}", pages)
