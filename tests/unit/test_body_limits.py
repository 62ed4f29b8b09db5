"""API004's parameters: the size said in the unit a person reads, and each kind of limit with
advice that fits it (only the upload limit is a setting)."""

from __future__ import annotations

import pytest

from access_api.services.body_limits import BodyKind, body_limit
from preservation.issues import Issue


@pytest.mark.parametrize(("limit", "size"), [
    (1 << 20, "1 MiB"), (64 << 30, "64 GiB"), (4096, "4 KiB"), (10001, "9.8 KiB"),
    (4 * 1_000_000 + (64 << 10), "3.9 MiB"), (100, "100 B")])
def test_the_size_is_said_in_binary_units(limit: int, size: str) -> None:
    assert body_limit(limit, BodyKind.JSON, "POST /x")["size"] == size


def test_only_the_upload_limit_sends_the_reader_to_the_setting() -> None:
    def en(kind: BodyKind) -> str:
        return Issue("API004", "", body_limit(1 << 20, kind, "POST /x")).message("en")

    assert "set by the setting KHOSO_MAX_UPLOAD_BYTES" in en(BodyKind.UPLOAD)
    assert "raises KHOSO_MAX_UPLOAD_BYTES" in en(BodyKind.UPLOAD)
    for kind in (BodyKind.JSON, BodyKind.FILE):
        assert "KHOSO_MAX_UPLOAD_BYTES does not apply" in en(kind)
        assert "POST /x" in en(kind)
