"""The fake's failure staging, which other packages' unit tests rely on."""

from __future__ import annotations

import hashlib
import io

import pytest

from storage import FixityOutcome, Storage, StorageError
from storage.memory import MemoryStorage


def test_is_a_storage() -> None:
    assert isinstance(MemoryStorage(), Storage)


def test_unreadable_object() -> None:
    s = MemoryStorage()
    s.put("k", io.BytesIO(b"abc"))
    s.make_unreadable("k")
    result = s.verify("k", hashlib.sha256(b"abc").hexdigest())
    assert result.outcome is FixityOutcome.UNREADABLE and result.actual_sha256 is None
    with pytest.raises(StorageError) as info:
        s.open("k")
    assert info.value.code == "STO007"


def test_location_down_is_transient() -> None:
    s = MemoryStorage("replica2")
    s.put("k", io.BytesIO(b"abc"))
    s.up = False
    assert not s.health().up
    for call in [lambda: s.put("k", io.BytesIO(b"x")), lambda: s.open("k"), lambda: s.stat("k"),
                 lambda: s.delete("k"), lambda: list(s.list())]:
        with pytest.raises(StorageError) as info:
            call()
        assert info.value.code == "STO006" and info.value.transient
        assert "replica2" in info.value.message("vi")
    assert s.verify("k", hashlib.sha256(b"abc").hexdigest()).outcome is FixityOutcome.UNREADABLE
    s.up = True
    assert s.open("k").read() == b"abc"


def test_stream_without_readinto() -> None:
    class ReadOnly:
        def __init__(self) -> None:
            self.inner = io.BytesIO(b"z" * 3_000_000)

        def read(self, n: int = -1) -> bytes:
            return self.inner.read(n)

    assert MemoryStorage().put("k", ReadOnly()).size == 3_000_000  # type: ignore[arg-type]
