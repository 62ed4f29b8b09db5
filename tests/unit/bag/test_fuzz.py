"""Hostile bytes never crash unpacking or validation: the answer is always issue codes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.bag import validate_bag
from ingest.unpack import UnpackLimits, unpack
from preservation.issues import issue_catalog
from tests.support.bags import tar_bytes, zip_bytes

SEEDS = [
    zip_bytes([("bag/bagit.txt", b"BagIt-Version: 1.0\n"), ("bag/data/a.txt", b"x" * 300)]),
    tar_bytes([("bag/bagit.txt", b"BagIt-Version: 1.0\n"), ("bag/data/a.txt", b"x" * 300)]),
    tar_bytes([("bag/data/a.txt", b"x" * 3000)], gz=True),
]
LIMITS = UnpackLimits(max_total_bytes=1 << 20, max_files=50, ratio_floor=4096)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_unpack(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "in.bin"
        archive.write_bytes(data)
        result = unpack(archive, Path(tmp) / "out", LIMITS)
        assert all(code in issue_catalog() for code in result.report.codes())
        if not result.ok:
            assert sorted(p.name for p in Path(tmp).iterdir()) == ["in.bin"]


@FUZZ
@given(st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b\x08"]), st.binary(max_size=2048))
def test_arbitrary_bytes_with_archive_magic(prefix: bytes, body: bytes) -> None:
    check_unpack(prefix + body)


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)),
                                        min_size=1, max_size=8))
def test_mutated_archives(seed: bytes, flips: list[tuple[int, int]]) -> None:
    data = bytearray(seed)
    for at, value in flips:
        data[at % len(data)] = value
    check_unpack(bytes(data))


@FUZZ
@given(st.binary(max_size=300), st.binary(max_size=300), st.binary(max_size=300))
def test_arbitrary_tag_files(bagit_txt: bytes, bag_info: bytes, manifest: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bag = Path(tmp)
        (bag / "data").mkdir()
        (bag / "data" / "a.txt").write_bytes(b"a")
        for name, data in (("bagit.txt", bagit_txt), ("bag-info.txt", bag_info),
                           ("manifest-sha256.txt", manifest), ("fetch.txt", manifest)):
            (bag / name).write_bytes(data)
        for content in (bagit_txt, b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
                        b"BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-16\n",
                        b"BagIt-Version: 0.95\nTag-File-Character-Encoding: ISO-8859-1\n"):
            (bag / "bagit.txt").write_bytes(content)
            codes = validate_bag(bag).report.codes()
            assert codes and all(code in issue_catalog() for code in codes)
