"""The OCR text of digitised documents, restored by a catalog rebuild.

Digitisation keeps a document's OCR text in the catalog (``DocumentOcrText``, what search
indexes) and, in the AIP, as the signed PDF/A's own text layer, with a PREMIS ``imaging``
event that names the PDF and the OCR engine. The AIP is the one source of truth: a rebuild
reads the layer back from the stored PDF, checked against the payload manifest first.
Reading a PDF's text is the digitisation tools' work, which storage does not import: the
caller passes it in (``OcrReader``). A document whose text cannot be read is still restored,
with a warning (RBD090) naming it: search then does not find it by its text.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preservation.events import IMAGING, Outcome
from storage.errors import StorageError
from storage.hashing import iter_chunks
from storage.protocol import Storage

# (the stored PDF, its imaging event's detail, a folder for scratch files) -> (pages, OCR
# engine, text with a form feed between pages), as digitisation stored them
OcrReader = Callable[[Path, str, Path], tuple[int, str, str]]


@dataclass(frozen=True)
class OcrText:
    """One digitised document's OCR text as read back from its AIP; ``path`` is the PDF's path
    in the bag, which ties it to the document."""

    path: str
    pages: int
    engine: str
    text: str


class OcrUnreadable(Exception):
    """The PDF could not be read or its text not extracted; ``reason`` says why (English)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def digitised(events: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Bag path of each PDF a successful digitization made -> its event's detail."""
    return {f"data/{e['object_identifier']}": e.get("detail") or "" for e in events
            if e.get("event_type") == IMAGING and e.get("outcome") == Outcome.SUCCESS
            and e.get("object_identifier")}


def read_ocr(storage: Storage, key: str, path: str, sha256: str, detail: str,
             reader: OcrReader) -> OcrText:
    """Copy the PDF to a scratch folder, hashing as it goes (the manifest's digest must match
    before its text is believed), and read its text with ``reader``."""
    with tempfile.TemporaryDirectory(prefix="khoso-ocr-") as work:
        pdf = Path(work) / "document.pdf"
        digest = hashlib.sha256()
        try:
            with storage.open(key) as src, pdf.open("wb") as out:
                for chunk in iter_chunks(src):
                    digest.update(chunk)
                    out.write(chunk)
        except StorageError as exc:
            raise OcrUnreadable(exc.message("en")) from None
        except OSError as exc:
            raise OcrUnreadable(f"scratch copy: {exc}") from None
        if digest.hexdigest() != sha256:
            raise OcrUnreadable(f"SHA-256 {digest.hexdigest()} differs from the manifest's "
                                f"{sha256}")
        try:
            pages, engine, text = reader(pdf, detail, Path(work))
        except Exception as exc:  # noqa: BLE001 - the document is restored all the same
            message = getattr(exc, "message", None)
            reason = message("en") if callable(message) else f"{type(exc).__name__}: {exc}"
            raise OcrUnreadable(str(reason)[:300]) from None
    return OcrText(path, pages, engine, text)
