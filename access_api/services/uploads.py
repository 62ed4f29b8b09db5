"""Resumable uploads (tus 1.0.0: core, creation, termination) of bags too large for one
request: the bytes go to a file under the data folder named by the upload's id, fsynced as they
arrive; the catalog row (``Upload``) says how many are safely kept. The last byte submits the
bag as ``submissions`` does; an upload is its creator's alone and is removed once expired.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import fcntl
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from access_api.services.base import Identity, ServiceContext
from access_api.services.submissions import (
    ACCEPTED,
    CHUNK,
    PayloadTooLarge,
    Readable,
    UnsupportedType,
    catalog_errors,
    check_queue,
    check_type,
    media_type,
    queue,
    read_into,
    staging_dir,
    staging_failed,
    submitter_agency,
    too_large,
)
from ingest.jobs import catalog_unavailable
from preservation.catalog.models import Upload, utcnow
from preservation.errors import Conflict, Forbidden, KhosoError, NotFound
from preservation.issues import Noun

log = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = ("creation", "termination")
OFFSET_TYPE = "application/offset+octet-stream"
COMMIT_EVERY = 64 << 20  # a resumable upload's offset is committed at least this often
PART_TTL = 86400  # seconds after which a partial single-request body is a dead server's
assert CHUNK < COMMIT_EVERY



@dataclass(frozen=True)
class UploadView:
    id: str
    length: int
    offset: int
    content_type: str
    filename: str | None
    job_id: str | None
    created_at: dt.datetime
    expires_at: dt.datetime

    @property
    def complete(self) -> bool:
        return self.offset >= self.length


def _view(row: Upload) -> UploadView:
    return UploadView(row.id, row.length, row.offset, row.content_type, row.filename,
                      row.job_id, row.created_at, row.expires_at)


def _header_int(header: str, value: str | None, limit: int) -> int:
    text = (value or "").strip()
    if not re.fullmatch(r"[0-9]{1,20}", text) or int(text) > limit:
        raise KhosoError("SUB008", header=header, limit=limit, value=(value or "")[:40])
    return int(text)


def parse_metadata(value: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64(value)`` pairs (tus 1.0 creation);
    values must be UTF-8. ``SUB009`` names what is wrong."""
    out: dict[str, str] = {}
    if value is None or not value.strip():
        return out
    if len(value) > 4096:
        raise KhosoError("SUB009", reason="longer than 4096 characters")
    for pair in value.split(","):
        parts = pair.strip().split(" ")
        key = parts[0]
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", key) or len(parts) > 2:
            raise KhosoError("SUB009", reason=f"bad pair '{pair.strip()[:40]}'")
        if key in out:
            raise KhosoError("SUB009", reason=f"key '{key}' given twice")
        try:
            decoded = base64.b64decode(parts[1], validate=True) if len(parts) == 2 else b""
            out[key] = decoded.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise KhosoError("SUB009", reason=f"the value of '{key}' is not base64 of UTF-8 text"
                             ) from None
    return out


def _safe_name(name: str | None) -> str | None:
    """The client's file name, for display only: its last part, printable, at most 255."""
    if not name:
        return None
    last = re.split(r"[\\/]", name)[-1]
    cleaned = "".join(c for c in last if c.isprintable())[:255]
    return cleaned or None


def uploads_dir(ctx: ServiceContext) -> Path:
    return ctx.settings.data_dir / "uploads"


def _file(ctx: ServiceContext, upload_id: str) -> Path:
    return uploads_dir(ctx) / upload_id


@catalog_errors
def create_upload(ctx: ServiceContext, identity: Identity, length_header: str | None,
                  metadata_header: str | None) -> UploadView:
    """A new resumable upload of ``Upload-Length`` bytes, owned by its creator."""
    limit = ctx.settings.max_upload_bytes
    text = (length_header or "").strip()
    if re.fullmatch(r"[0-9]{1,30}", text) and int(text) > limit:
        raise too_large(ctx)
    length = _header_int("Upload-Length", length_header, limit)
    if length == 0:
        raise KhosoError("SUB004")
    meta = parse_metadata(metadata_header)
    declared = meta.get("filetype") or meta.get("contentType") or meta.get("content-type")
    kind = check_type(declared) if declared else ""
    agency = submitter_agency(identity)
    clean_expired(ctx)
    check_queue(ctx)
    folder = uploads_dir(ctx)
    upload_id = uuid.uuid4().hex
    now = utcnow()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / upload_id, "xb"):
            pass
    except OSError as exc:
        raise staging_failed(exc) from exc
    row = Upload(id=upload_id, owner=identity.actor, agency=agency, length=length, offset=0,
                 content_type=kind, filename=_safe_name(meta.get("filename")),
                 created_at=now, updated_at=now,
                 expires_at=now + dt.timedelta(days=ctx.settings.upload_expiry_days))
    try:
        with ctx.catalog.session() as s:
            s.add(row)
    except BaseException:
        _file(ctx, upload_id).unlink(missing_ok=True)
        raise
    return _view(row)


def _own(session: Any, identity: Identity, upload_id: str) -> Upload:
    """The caller's own live upload; anyone else's, or an expired one, is unknown (404)."""
    row = session.get(Upload, upload_id) if re.fullmatch(r"[0-9a-f]{32}", upload_id) else None
    expires = row.expires_at if row is not None else None
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)
    if row is None or row.owner != identity.actor or (expires is not None and expires < utcnow()):
        raise NotFound("GEN002", what=Noun.UPLOAD, key=upload_id[:40])
    return row


@catalog_errors
def show_upload(ctx: ServiceContext, identity: Identity, upload_id: str) -> UploadView:
    with ctx.catalog.session() as s:
        return _view(_own(s, identity, upload_id))


def _set_offset(ctx: ServiceContext, upload_id: str, start: int, offset: int) -> None:
    with ctx.catalog.session() as s:
        s.execute(sa.update(Upload).where(Upload.id == upload_id, Upload.offset == start).values(
            offset=offset, updated_at=utcnow(),
            expires_at=utcnow() + dt.timedelta(days=ctx.settings.upload_expiry_days)))


@catalog_errors
def append(ctx: ServiceContext, identity: Identity, upload_id: str, content_type: str | None,
           offset_header: str | None, stream: Readable, length: int | None) -> UploadView:
    """Write a chunk at ``Upload-Offset``; what arrived is fsynced and counted even when the
    connection breaks (the client asks HEAD and resumes). The last byte submits the upload."""
    with ctx.catalog.session() as s:
        row = _own(s, identity, upload_id)
    if media_type(content_type) != OFFSET_TYPE:
        raise UnsupportedType("API005", content_type=content_type or "-", accepted=OFFSET_TYPE)
    if row.job_id is not None:
        raise Conflict("SUB011", upload=upload_id, length=row.length, job=row.job_id)
    given = _header_int("Upload-Offset", offset_header, row.length)
    path = _file(ctx, upload_id)
    try:
        out = open(path, "r+b")
    except FileNotFoundError:
        raise NotFound("GEN002", what=Noun.UPLOAD, key=upload_id) from None
    except OSError as exc:
        raise staging_failed(exc) from exc
    with out:
        fcntl.flock(out.fileno(), fcntl.LOCK_EX)  # one writer per upload; others then see 409
        with ctx.catalog.session() as s:
            row = _own(s, identity, upload_id)
        if row.job_id is not None:
            raise Conflict("SUB011", upload=upload_id, length=row.length, job=row.job_id)
        if given != row.offset:
            raise Conflict("SUB010", given=given, offset=row.offset)
        if length is not None and given + length > row.length:
            raise PayloadTooLarge("SUB014", offset=given, sent=length, length=row.length)
        start = offset = row.offset
        committed = start
        not_kept: Exception | None = None
        out.seek(start)
        out.truncate(start)  # bytes past the committed offset: a crash's, never counted
        # one buffer for the whole body, filled in place: no bytes object per chunk
        view = memoryview(bytearray(CHUNK))
        try:
            while n := read_into(stream, view, offset - start):
                if offset + n > row.length:
                    sent = offset - start + n
                    out.truncate(committed)  # this chunk is refused whole
                    offset = committed
                    raise PayloadTooLarge("SUB014", offset=start, sent=sent, length=row.length)
                try:
                    out.write(view[:n])
                except OSError as exc:
                    raise staging_failed(exc) from exc
                offset += n
                if offset - committed >= COMMIT_EVERY:
                    out.flush()
                    os.fsync(out.fileno())
                    _set_offset(ctx, upload_id, committed, offset)
                    committed = offset
        finally:  # a broken connection keeps what was received
            try:
                out.flush()
                os.fsync(out.fileno())
                if offset != committed:
                    _set_offset(ctx, upload_id, committed, offset)
            except (OSError, sa.exc.SQLAlchemyError) as exc:
                log.exception("upload %s: could not keep the bytes received", upload_id)
                not_kept = exc  # the offset stays at what was kept; the client resends
    if isinstance(not_kept, OSError):
        raise staging_failed(not_kept) from not_kept
    if not_kept is not None:
        raise catalog_unavailable(not_kept) from not_kept
    if offset >= row.length:
        return _submit_upload(ctx, identity, upload_id)
    with ctx.catalog.session() as s:
        return _view(_own(s, identity, upload_id))


def _submit_upload(ctx: ServiceContext, identity: Identity, upload_id: str) -> UploadView:
    """A complete upload becomes an ingest job; a full queue or a broker down leaves it whole
    and complete (a PATCH of no bytes at its end submits it again)."""
    with ctx.catalog.session() as s:
        row = _own(s, identity, upload_id)
        if row.job_id is not None:
            return _view(row)
    check_queue(ctx)
    path = _file(ctx, upload_id)
    folder = staging_dir(ctx)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        source = folder / f"{upload_id}{ACCEPTED.get(row.content_type, '.bag')}"
        os.link(path, source)  # the job's own name; the upload's file goes when the job does
    except OSError as exc:
        raise staging_failed(exc) from exc
    try:
        job_id = queue(ctx, identity, source, row.agency)
    except Forbidden:  # the other agency's bag: nothing of it is kept
        terminate(ctx, identity, upload_id)
        raise
    with ctx.catalog.session() as s:
        row = s.get_one(Upload, upload_id)
        row.job_id = job_id
    path.unlink(missing_ok=True)
    return _view(row)


@catalog_errors
def terminate(ctx: ServiceContext, identity: Identity, upload_id: str) -> None:
    """tus termination: the upload and its bytes are gone (a submitted one's job goes on)."""
    with ctx.catalog.session() as s:
        row = _own(s, identity, upload_id)
        s.delete(row)
    _file(ctx, upload_id).unlink(missing_ok=True)


@catalog_errors
def clean_expired(ctx: ServiceContext, limit: int = 100) -> int:
    """Remove uploads past their expiry with their bytes, and partial bodies a dead server
    left (a day old); returns how many."""
    with ctx.catalog.session() as s:
        ids = list(s.scalars(sa.select(Upload.id).where(Upload.expires_at < utcnow())
                             .limit(limit)))
        if ids:
            s.execute(sa.delete(Upload).where(Upload.id.in_(ids)))
    for upload_id in ids:
        _file(ctx, upload_id).unlink(missing_ok=True)
    # a body being received when its server died: nobody finishes it
    cutoff = time.time() - PART_TTL
    for partial in (staging_dir(ctx).glob("*.part") if staging_dir(ctx).is_dir() else ()):
        try:
            if partial.stat().st_mtime < cutoff:
                partial.unlink()
                ids.append(partial.name)
        except OSError:
            continue
    if ids:
        log.info("removed %d expired upload(s) and stale partial bodies", len(ids))
    return len(ids)
