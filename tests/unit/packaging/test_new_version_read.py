"""A current file that cannot be read as the catalog records it refuses the change with VER009.

The three refusals passed the path twice (positionally and as ``path=``), so each raised a
``TypeError`` instead of the coded error the CLI prints (found by mypy)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from preservation.errors import KhosoError
from preservation.packaging.aip.new_version import _Current, _Held, _read

PATH = "data/METS.xml"
DATA = b"<mets/>"


def _current() -> _Current:
    held = _Held(1, len(DATA), hashlib.sha256(DATA).hexdigest(), "text/xml",
                 dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    return _Current(package_id=1, objid="urn:F1:uuid-X", version=1, content="hoso", label=None,
                    fond_code="F1", organ_id=None, record_file_id=None, package_ids=[1],
                    prefixes={1: "A/F1/X/v1"}, files={PATH: held})


def _unreadable(key: str) -> bytes:
    raise OSError("disk gone")


@pytest.mark.parametrize(("path", "read", "reason"), [
    ("data/other.xml", lambda key: DATA, "not in catalog"),
    (PATH, _unreadable, "disk gone"),
    (PATH, lambda key: b"changed", "SHA-256 mismatch"),
])
def test_refusal_is_ver009(path, read, reason) -> None:
    with pytest.raises(KhosoError) as caught:
        _read(_current(), read, path)
    assert caught.value.code == "VER009"
    assert caught.value.issue.path == path
    assert path in caught.value.message("en") and reason in caught.value.message("en")


def test_good_file_is_read() -> None:
    assert _read(_current(), lambda key: DATA if key == f"A/F1/X/v1/{PATH}" else b"", PATH) == DATA
