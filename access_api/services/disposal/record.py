"""The destruction file (hồ sơ hủy) as it is kept in every storage location, write-once, so it
outlives the catalog: ``{archive}/_disposal/{case}/`` holds the decision PDF(s), ``case.json``
(the list, the explanation, the council's opinions, the decisions, the tombstones, the PREMIS
deletion events) and ``bien-ban-huy.pdf``. This module writes those keys and reads them back;
``storage.disposal_file`` checks ``case.json`` for a catalog rebuild."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from access_api.services.base import ServiceContext
from preservation.catalog.models import DisposalCase
from preservation.errors import Unavailable
from preservation.issues import Text
from preservation.packaging.aip.layout import disposal_prefix
from storage import disposal_state
from storage.disposal_file import CASE_FILE
from storage.errors import StorageError

MINUTES_FILE = "bien-ban-huy.pdf"


def decision_key(archive_code: str, case_id: str, sha256: str) -> str:
    return f"{disposal_prefix(archive_code, case_id)}quyet-dinh-{sha256[:16]}.pdf"


def case_key(archive_code: str, case_id: str) -> str:
    return disposal_prefix(archive_code, case_id) + CASE_FILE


def minutes_key(archive_code: str, case_id: str) -> str:
    return disposal_prefix(archive_code, case_id) + MINUTES_FILE


def storage_failed(location: str, operation: Text, exc: StorageError) -> Unavailable:
    """A location failing is the archive's fault: 503, retried later (DES020)."""
    return Unavailable("DES020", location=location, operation=operation,
                       reason=exc.message("en"))


def put_everywhere(ctx: ServiceContext, key: str, stream: Callable[[], BinaryIO], sha256: str,
                   operation: Text) -> None:
    """Write-once in every location; the same bytes already there are left as they are (a
    retried step), other bytes are refused by the location (``ObjectExists``)."""
    for name, storage in ctx.storages.items():
        try:
            storage.put(key, stream(), expected_sha256=sha256)
        except StorageError as exc:
            raise storage_failed(name, operation, exc) from exc


def write_state(ctx: ServiceContext, s: Session, case: DisposalCase) -> str:
    """The case's state after a change, written to every location before the change commits
    (``storage.disposal_state``): a location failing refuses the change (DES201, 503), so no
    state lives in the catalog alone. Its key."""
    key, data = disposal_state.encode(s, case, ctx.settings.archive_code)
    digest = hashlib.sha256(data).hexdigest()
    for name, storage in ctx.storages.items():
        try:
            storage.put(key, io.BytesIO(data), expected_sha256=digest)
        except StorageError as exc:
            raise Unavailable("DES201", id=case.id, location=name,
                              reason=exc.message("en")) from exc
    return key


def dump(document: dict[str, Any]) -> bytes:
    """``case.json`` bytes: the same facts give the same bytes (a retried execution finds its
    own file already written)."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1,
                      default=str).encode("utf-8")


def write_file(ctx: ServiceContext, case_id: str, document: dict[str, Any], minutes: bytes
               ) -> dict[str, str]:
    """Write ``case.json`` and the biên bản to every location; their SHA-256 by key."""
    written = {}
    for key, data in ((case_key(ctx.settings.archive_code, case_id), dump(document)),
                      (minutes_key(ctx.settings.archive_code, case_id), minutes)):
        digest = hashlib.sha256(data).hexdigest()
        put_everywhere(ctx, key, lambda data=data: io.BytesIO(data), digest,  # type: ignore[misc]
                       Text("lưu hồ sơ hủy", "storing the destruction file"))
        written[key] = digest
    return written


def read_case(storage: Any, archive_code: str, case_id: str) -> dict[str, Any]:
    """``case.json`` of a case as one location holds it (for a catalog rebuilt without it)."""
    with storage.open(case_key(archive_code, case_id)) as f:
        loaded: dict[str, Any] = json.loads(f.read().decode("utf-8"))
    return loaded
