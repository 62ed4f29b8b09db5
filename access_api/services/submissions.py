"""Submission over HTTP: a serialised bag streamed to the archive's own staging file and queued
as an ingest job exactly as ``khoso ingest`` queues one, in one request or resumably (tus 1.0).

The staging file is named by the archive (``submissions/<uuid>.zip``), never by the client; it
belongs to the job once queued (the worker removes it when the job has an outcome). Whatever
stops a submission before its job is queued — too large, cut short, the queue full, the broker
or the catalog down — removes what was staged: an agency retries, the archive keeps nothing.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import logging
import os
import re
import tarfile
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

import sqlalchemy as sa

from access_api.services.base import Identity, ServiceContext, UserRole
from ingest.jobs import DEFAULT_LEASE, catalog_unavailable, create_job
from ingest.jobs import send as send_job
from preservation.catalog.models import Job, Upload, utcnow
from preservation.catalog.vocab import JobStatus
from preservation.errors import Conflict, Forbidden, KhosoError, NotFound, Unavailable
from preservation.issues import Noun
from preservation.jobs import make_celery

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

# What a serialised bag may be sent as, and the extension its staged copy gets (the pipeline
# decides by the leading bytes; the name only helps an operator looking at the folder).
ACCEPTED = {"application/zip": ".zip", "application/x-tar": ".tar",
            "application/gzip": ".tar.gz"}
TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = ("creation", "termination")
OFFSET_TYPE = "application/offset+octet-stream"
CHUNK = 1 << 20
COMMIT_EVERY = 64 << 20  # a resumable upload's offset is committed at least this often
QUEUE_RETRY = 60  # seconds a client waits when the queue is full
BAG_INFO_MAX = 64 << 10
PART_TTL = 86400  # seconds after which a partial single-request body is a dead server's
TAR_MEMBERS_LOOKED_AT = 64  # bag-info.txt is among the first members of a bag made by a tool


class Readable(Protocol):
    """A request body: read a chunk at a time (b"" at its end)."""

    def read(self, size: int = -1, /) -> bytes: ...


class PayloadTooLarge(KhosoError):
    """A body (or a resumable chunk) past ``KHOSO_MAX_UPLOAD_BYTES`` or the upload's length."""


class UnsupportedType(KhosoError):
    """A body whose declared content type the endpoint does not take."""


def _catalog_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """The catalog unreachable is the archive's fault: 503 with Retry-After, never a 500."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except sa.exc.OperationalError as exc:
            raise catalog_unavailable(exc) from exc

    return wrapper


def submitter_agency(identity: Identity) -> str | None:
    """The agency an agency system submits for; None for staff (they submit for any agency).
    ``SUB002`` for an agency account bound to none."""
    if identity.has(UserRole.ADMIN, UserRole.ARCHIVIST):
        return None
    if identity.agency is None:
        raise Forbidden("SUB002", user=identity.actor)
    return identity.agency


def media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _check_type(content_type: str | None) -> str:
    kind = media_type(content_type)
    if kind not in ACCEPTED:
        raise UnsupportedType("API005", content_type=content_type or "-",
                              accepted=", ".join(ACCEPTED))
    return kind


def _too_large(ctx: ServiceContext) -> PayloadTooLarge:
    return PayloadTooLarge("API004", limit=ctx.settings.max_upload_bytes)


def _check_queue(ctx: ServiceContext) -> None:
    limit = ctx.settings.max_queued_jobs
    with ctx.catalog.session() as s:
        count = s.scalar(sa.select(sa.func.count(Job.id)).where(
            Job.kind == "ingest", Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)))) or 0
    if count >= limit:
        raise Unavailable("SUB003", retry_after=QUEUE_RETRY, count=count, limit=limit,
                          retry=QUEUE_RETRY)


def staging_dir(ctx: ServiceContext) -> Path:
    return ctx.settings.data_dir / "submissions"


def uploads_dir(ctx: ServiceContext) -> Path:
    return ctx.settings.data_dir / "uploads"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _staging_failed(exc: OSError) -> Unavailable:
    return Unavailable("SUB006", retry_after=60, reason=exc.strerror or type(exc).__name__)


def _read(stream: Readable, received: int) -> bytes:
    """The next chunk of the body; the connection breaking is the client's (``SUB005``), not
    the archive's disk failing."""
    try:
        return stream.read(CHUNK)
    except OSError as exc:
        log.info("request body cut after %d bytes: %s", received, exc)
        raise KhosoError("SUB005", received=received) from exc


def _stream_to(stream: Readable, target: Path, limit: int, ctx: ServiceContext) -> int:
    """Copy ``stream`` into the new file ``target`` a chunk at a time, fsynced; on any failure
    (the client gone, past ``limit``, the disk) the partial file is removed."""
    written = 0
    try:
        with open(target, "xb") as out:
            while chunk := _read(stream, written):
                written += len(chunk)
                if written > limit:
                    raise _too_large(ctx)
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise _staging_failed(exc) from exc
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:  # opening or syncing our own file
        target.unlink(missing_ok=True)
        raise _staging_failed(exc) from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return written


def bag_organ(path: Path) -> str | None:
    """The ``Ma-Dinh-Danh-Co-Quan`` of the bag's bag-info.txt when it can be read cheaply (a
    zip's central directory, the first members of a plain tar); None otherwise — the worker
    checks it in any case (``SUB001`` in the job's report)."""
    try:
        with open(path, "rb") as f:
            head = f.read(262)
        if head[:4] == b"PK\x03\x04":
            with zipfile.ZipFile(path) as z:
                names = [n for n in z.namelist() if re.fullmatch(r"(?:[^/]+/)?bag-info\.txt", n)]
                if not names:
                    return None
                with z.open(min(names, key=len)) as member:
                    return _organ_in(member.read(BAG_INFO_MAX))
        if head[257:262] == b"ustar":
            with tarfile.open(path, "r:") as t:
                for _, info in zip(range(TAR_MEMBERS_LOOKED_AT), t, strict=False):
                    if info.isfile() and re.fullmatch(r"(?:\./)?(?:[^/]+/)?bag-info\.txt",
                                                      info.name):
                        extracted = t.extractfile(info)
                        return _organ_in(extracted.read(BAG_INFO_MAX)) if extracted else None
    except (OSError, zipfile.BadZipFile, tarfile.TarError, ValueError, EOFError,
            NotImplementedError, RuntimeError):
        return None  # a broken archive: the pipeline rejects it with its own codes
    return None


def _organ_in(text: bytes) -> str | None:
    for line in text.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == "ma-dinh-danh-co-quan":
            return value.strip()
    return None


def _queue(ctx: ServiceContext, identity: Identity, source: Path, agency: str | None) -> str:
    """Queue the staged ``source`` for a worker; a broker that cannot take it leaves no job
    behind (cancelled) and no staged file (``SUB007``, 503)."""
    if agency is not None:
        organ = bag_organ(source)
        if organ is not None and organ != agency:
            source.unlink(missing_ok=True)
            raise Forbidden("SUB001", organ=organ, agency=agency)
    app = make_celery(ctx.settings)
    lease = float(app.conf.get("khoso_job_visibility_timeout") or DEFAULT_LEASE)
    try:
        job_id = create_job(ctx.catalog, source, identity.actor, lease=lease, agency=agency,
                            staged=True)
    except sa.exc.SQLAlchemyError as exc:
        source.unlink(missing_ok=True)
        raise catalog_unavailable(exc) from exc
    try:
        send_job(ctx.catalog, app, job_id)
    except Exception as exc:  # noqa: BLE001 - any broker failure: the submission is not taken
        log.warning("job %s could not be queued: %s", job_id, exc)
        source.unlink(missing_ok=True)
        try:
            with ctx.catalog.session() as s:
                job = s.get_one(Job, job_id)
                job.status, job.finished_at, job.lease_until = JobStatus.CANCELLED, utcnow(), None
                job.error = f"not queued: the broker did not take it ({type(exc).__name__})"
        except sa.exc.SQLAlchemyError:
            log.exception("could not cancel job %s", job_id)
        raise Unavailable("SUB007", retry_after=60,
                          reason=type(exc).__name__) from exc
    log.info("job %s queued from an HTTP submission by %s", job_id, identity.actor,
             extra={"job_id": job_id, "step": "submitted"})
    return job_id


@_catalog_errors
def submit_stream(ctx: ServiceContext, identity: Identity, stream: Readable,
                  content_type: str | None, length: int | None) -> str:
    """Stage a serialised bag sent as one body and queue its ingest; returns the job id."""
    kind = _check_type(content_type)
    agency = submitter_agency(identity)
    limit = ctx.settings.max_upload_bytes
    if length is not None and length > limit:
        raise _too_large(ctx)
    if length == 0:
        raise KhosoError("SUB004")
    _check_queue(ctx)  # before reading a byte: a full queue keeps nothing
    folder = staging_dir(ctx)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _staging_failed(exc) from exc
    name = uuid.uuid4().hex
    partial = folder / f"{name}.part"
    received = _stream_to(stream, partial, limit, ctx)
    if received == 0:
        partial.unlink(missing_ok=True)
        raise KhosoError("SUB004")
    if length is not None and received < length:
        partial.unlink(missing_ok=True)
        raise KhosoError("SUB005", received=received)
    source = folder / f"{name}{ACCEPTED[kind]}"
    try:
        partial.rename(source)
        _fsync_dir(folder)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise _staging_failed(exc) from exc
    try:
        _check_queue(ctx)  # others may have filled it while this body arrived
    except BaseException:
        source.unlink(missing_ok=True)
        raise
    return _queue(ctx, identity, source, agency)


# --- resumable uploads (tus 1.0.0: core, creation, termination) ---


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


def _file(ctx: ServiceContext, upload_id: str) -> Path:
    return uploads_dir(ctx) / upload_id


@_catalog_errors
def create_upload(ctx: ServiceContext, identity: Identity, length_header: str | None,
                  metadata_header: str | None) -> UploadView:
    """A new resumable upload of ``Upload-Length`` bytes, owned by its creator."""
    limit = ctx.settings.max_upload_bytes
    text = (length_header or "").strip()
    if re.fullmatch(r"[0-9]{1,30}", text) and int(text) > limit:
        raise _too_large(ctx)
    length = _header_int("Upload-Length", length_header, limit)
    if length == 0:
        raise KhosoError("SUB004")
    meta = parse_metadata(metadata_header)
    declared = meta.get("filetype") or meta.get("contentType") or meta.get("content-type")
    kind = _check_type(declared) if declared else ""
    agency = submitter_agency(identity)
    clean_expired(ctx)
    _check_queue(ctx)
    folder = uploads_dir(ctx)
    upload_id = uuid.uuid4().hex
    now = utcnow()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / upload_id, "xb"):
            pass
    except OSError as exc:
        raise _staging_failed(exc) from exc
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


@_catalog_errors
def show_upload(ctx: ServiceContext, identity: Identity, upload_id: str) -> UploadView:
    with ctx.catalog.session() as s:
        return _view(_own(s, identity, upload_id))


def _set_offset(ctx: ServiceContext, upload_id: str, start: int, offset: int) -> None:
    with ctx.catalog.session() as s:
        s.execute(sa.update(Upload).where(Upload.id == upload_id, Upload.offset == start).values(
            offset=offset, updated_at=utcnow(),
            expires_at=utcnow() + dt.timedelta(days=ctx.settings.upload_expiry_days)))


@_catalog_errors
def append(ctx: ServiceContext, identity: Identity, upload_id: str, content_type: str | None,
           offset_header: str | None, stream: Readable, length: int | None) -> UploadView:
    """Write a chunk at ``Upload-Offset``; what arrived is fsynced and counted even when the
    connection breaks (the client asks HEAD and resumes). The last byte submits the upload."""
    import fcntl

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
        raise _staging_failed(exc) from exc
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
        try:
            while chunk := _read(stream, offset - start):
                if offset + len(chunk) > row.length:
                    sent = offset - start + len(chunk)
                    out.truncate(committed)  # this chunk is refused whole
                    offset = committed
                    raise PayloadTooLarge("SUB014", offset=start, sent=sent, length=row.length)
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise _staging_failed(exc) from exc
                offset += len(chunk)
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
        raise _staging_failed(not_kept) from not_kept
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
    _check_queue(ctx)
    path = _file(ctx, upload_id)
    folder = staging_dir(ctx)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        source = folder / f"{upload_id}{ACCEPTED.get(row.content_type, '.bag')}"
        os.link(path, source)  # the job's own name; the upload's file goes when the job does
    except OSError as exc:
        raise _staging_failed(exc) from exc
    try:
        job_id = _queue(ctx, identity, source, row.agency)
    except Forbidden:  # the other agency's bag: nothing of it is kept
        terminate(ctx, identity, upload_id)
        raise
    with ctx.catalog.session() as s:
        row = s.get_one(Upload, upload_id)
        row.job_id = job_id
    path.unlink(missing_ok=True)
    return _view(row)


@_catalog_errors
def terminate(ctx: ServiceContext, identity: Identity, upload_id: str) -> None:
    """tus termination: the upload and its bytes are gone (a submitted one's job goes on)."""
    with ctx.catalog.session() as s:
        row = _own(s, identity, upload_id)
        s.delete(row)
    _file(ctx, upload_id).unlink(missing_ok=True)


@_catalog_errors
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
