"""Fixtures: an input folder and an empty output folder per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.unpack import UnpackLimits, UnpackResult, unpack
from tests.support.bags import assert_refused, snapshot


@pytest.fixture
def refuse(tmp_path: Path) -> Callable[..., UnpackResult]:
    """Write ``data`` as an archive, unpack it, and assert it was refused with exactly ``codes``."""

    def run(data: bytes, codes: set[str], limits: UnpackLimits | None = None) -> UnpackResult:
        (tmp_path / "in").mkdir(exist_ok=True)
        (tmp_path / "out").mkdir(exist_ok=True)
        archive = tmp_path / "in" / "submission.bin"
        archive.write_bytes(data)
        before = snapshot(tmp_path)
        dest = tmp_path / "out" / "bag"
        result = unpack(archive, dest, limits)
        assert_refused(result, codes, before, tmp_path, dest)
        return result

    return run
