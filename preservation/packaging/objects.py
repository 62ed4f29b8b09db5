"""The one value type for "an object to store": what ingest, a new AIP version and the
replication worker hand to ``storage.replication``. It lives here, not in ``storage``, because
``ingest`` may not import ``storage``."""

from __future__ import annotations

import os
from typing import NamedTuple


class ObjectToStore(NamedTuple):
    """One object to write to every replica location.

    A tuple, not a dataclass: a 100,000-file AIP makes one per file (``ingest.steps.store_aip``
    makes them when asked for), and the replication worker rebuilds them from pickled frames."""

    key: str
    path: str | os.PathLike[str] | None  # the local file to read; None when ``staged``
    sha256: str
    size: int
    lock: bool = True  # under the location's retention lock (S3 Object Lock) when kept for ever
    staged: str | None = None  # the key each location already holds it under: moved, not copied
