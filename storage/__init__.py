"""Archival Storage: the ``Storage`` protocol, its backends, replication, fixity audit and repair.

Callers get a backend from ``open_storage(location)`` and use only the protocol; backends are
imported lazily there, so importing this package does not import boto3.
"""

from storage.errors import (
    DigestMismatch,
    InvalidKey,
    ObjectExists,
    ObjectLocked,
    ObjectMissing,
    StorageError,
)
from storage.keys import validate_key
from storage.locations import check_locations, open_storage
from storage.protocol import (
    FixityOutcome,
    FixityResult,
    LocationHealth,
    ObjectInfo,
    Storage,
    StoredObject,
)

__all__ = [
    "DigestMismatch", "FixityOutcome", "FixityResult", "InvalidKey", "LocationHealth", "ObjectInfo",
    "ObjectExists", "ObjectLocked", "ObjectMissing", "Storage", "StorageError", "StoredObject", "check_locations",
    "open_storage", "validate_key",
]
