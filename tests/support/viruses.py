"""The EICAR test string and the containers it is hidden in, made at test time."""

from __future__ import annotations

import io
import zipfile

# Built at test time so no file in the repository carries the EICAR string.
EICAR = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "*H+H$!ELIF-TSET-SURIVITNA-DRADNATS-RACIE"[::-1]).encode()


def zipped(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return buf.getvalue()
