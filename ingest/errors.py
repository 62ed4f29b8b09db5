"""Whose fault an OS error is: the submission's (a coded rejection) or the archive's (a system error).

A file of a folder submission that is unreadable, vanished or became a FIFO is the submitter's
to fix, so it is reported with a code naming the file and the SIP is rejected. A full or failing
disk under the archive's own staging area is not: rejecting the SIP for it would record the
archive's fault against the agency, so it is raised as a transient ``StagingError`` and the job
is retried instead (``ingest.jobs`` reads ``transient``).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from preservation.errors import KhosoError

# The archive's own resources failing, whichever file was being touched.
SYSTEM_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.ENOMEM,
                           errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.EFBIG,
                           errno.ENOLCK, errno.EAGAIN, errno.ETIMEDOUT, errno.ESTALE})


class StagingError(KhosoError):
    """The archive could not read or write its own staging area (ING055): retry, never reject."""

    transient = True

    def __init__(self, path: str, exc: OSError) -> None:
        super().__init__("ING055", path, file=path, reason=reason(exc))


class HoSoBeingIngested(KhosoError):
    """Another job is writing this hồ sơ's AIP (ING036): wait and retry, never reject, since
    whether this submission is a duplicate depends on how that job ends."""

    transient = True

    def __init__(self, arc_file_code: str, job_id: str) -> None:
        super().__init__("ING036", "metadata/descriptive/EAD.xml", arc_file_code=arc_file_code,
                         job=job_id)


def reason(exc: OSError) -> str:
    """``strerror (ERRNO)``, e.g. ``No space left on device (ENOSPC)``."""
    name = errno.errorcode.get(exc.errno or 0, "")
    text = exc.strerror or str(exc) or type(exc).__name__
    return f"{text} ({name})" if name else text


def is_system(exc: OSError) -> bool:
    return exc.errno in SYSTEM_ERRNOS


def inside(path: str | bytes | os.PathLike | None, folder: Path) -> str | None:
    """``path`` relative to ``folder`` (POSIX), or None when it is not under it."""
    if path is None or isinstance(path, bytes | int):
        return None
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(folder)).as_posix()
    except ValueError:
        return None
