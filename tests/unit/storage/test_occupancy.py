"""storage.occupancy: what the locations already hold under an AIP key prefix, and whose."""

from __future__ import annotations

import io

import pytest

from storage.errors import StorageError
from storage.memory import MemoryStorage
from storage.occupancy import occupancy, purge

PREFIX = "TTLTNA/P623/TTLTNA.H49.2001.1/v1"


def test_free_prefix_and_neighbours_are_not_taken():
    a, b = MemoryStorage("a"), MemoryStorage("b")
    a.put(f"{PREFIX}0/bag-info.txt", io.BytesIO(b"External-Identifier: urn:other\n"))  # …/v10
    a.put("TTLTNA/P623/TTLTNA.H49.2001.1/_events/000001-00000000.jsonl", io.BytesIO(b"{}\n"))
    assert occupancy([a, b], PREFIX) is None


def test_holders_and_their_package_identifiers():
    a, b = MemoryStorage("a"), MemoryStorage("b")
    a.put(f"{PREFIX}/bag-info.txt", io.BytesIO(b"Source-Organization: X\nExternal-Identifier: urn:P623:uuid-1\n"))
    b.put(f"{PREFIX}/data/representations/rep1/data/a.pdf", io.BytesIO(b"%PDF"))
    held = occupancy([a, b], PREFIX)
    assert held is not None and held.locations == ("a", "b")
    assert held.identifiers == {"urn:P623:uuid-1"}


def test_a_location_that_cannot_answer_is_a_transient_error():
    a = MemoryStorage("a")
    a.up = False
    with pytest.raises(StorageError) as info:
        occupancy([a], PREFIX)
    assert info.value.transient


def test_purge_removes_only_under_the_prefix():
    a = MemoryStorage("a")
    a.put(f"{PREFIX}/data/METS.xml", io.BytesIO(b"<mets/>"))
    a.put(f"{PREFIX}0/data/METS.xml", io.BytesIO(b"<mets/>"))
    assert purge([a], PREFIX) == 1
    assert list(a.list()) == [f"{PREFIX}0/data/METS.xml"]


def test_a_lock_set_after_the_check_stops_the_purge_with_sto046():
    """A version locked between the lock check and its delete: the purge stops there with the
    transient STO046 naming the key (the job runs again), not a permanent STO005."""
    from storage.errors import ObjectLocked

    class LockedSinceChecked(MemoryStorage):
        def delete(self, key: str) -> None:
            raise ObjectLocked(key, self.name, "2027-01-01T00:00:00+00:00")

    a = LockedSinceChecked("a")
    a.put(f"{PREFIX}/data/METS.xml", io.BytesIO(b"<mets/>"))
    with pytest.raises(StorageError) as info:
        purge([a], PREFIX)
    assert info.value.code == "STO046" and info.value.transient
    assert f"{PREFIX}/data/METS.xml" in info.value.message("en")
    assert "2027-01-01" in info.value.message("en") and "2027-01-01" in info.value.message("vi")
