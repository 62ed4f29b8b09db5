"""Storage exceptions: a stable STO code, a bilingual message and whether a retry can help.

``transient`` is what a job runner needs to decide between "retry later" (network, throttling,
a 5xx) and "a person must act" (wrong bucket, denied, a lock). Codes live in
``preservation/data/issues/storage.json``.
"""

from __future__ import annotations

from typing import Any

from preservation.errors import KhosoError


class StorageError(KhosoError):
    """A storage operation failed; ``transient`` says whether retrying may succeed."""

    def __init__(self, code: str, path: str = "", *, transient: bool = False, **params: Any) -> None:
        self.transient = transient
        super().__init__(code, path, **params)


class InvalidKey(StorageError):
    """A key breaks the key rules (``storage.keys.validate_key``)."""


class ObjectMissing(StorageError):
    """No object under this key."""

    def __init__(self, key: str, location: str) -> None:
        super().__init__("STO002", key, key=key, location=location)


class DigestMismatch(StorageError):
    """The bytes do not hash to the expected SHA-256; nothing was left behind."""

    def __init__(self, key: str, expected: str, actual: str, *, code: str = "STO003", **params: Any) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(code, key, key=key, expected=expected, actual=actual, **params)


class ObjectLocked(StorageError):
    """A retention lock (S3 Object Lock, legal hold) refused a delete."""

    def __init__(self, key: str, location: str, until: str = "", *, code: str = "STO005") -> None:
        self.until = until
        super().__init__(code, key, key=key, location=location, until=until)


class ObjectExists(StorageError):
    """Another object already holds ``key``: AIP keys are written once and never replaced.

    Not transient: the same put would fail again; the existing object is left untouched."""

    def __init__(self, key: str, location: str, existing: str, new: str) -> None:
        self.existing = existing
        super().__init__("STO045", key, key=key, location=location, actual=existing, expected=new)


def os_error(key: str, location: str, operation: str, exc: OSError | None = None) -> StorageError:
    """An operating-system error of a storage location (read-only, permission, full, I/O):
    the archive's own fault, so transient: the job is retried and nobody rejects a package."""
    reason = exc.strerror if exc is not None and exc.strerror else str(exc or "")
    return StorageError("STO044", key, transient=True, key=key, location=location,
                        operation=operation, reason=reason)
