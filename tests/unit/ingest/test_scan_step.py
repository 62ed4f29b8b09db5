"""The one read pass (digests + scan) with fakes of the real adapter interfaces."""

from __future__ import annotations

import hashlib
from pathlib import Path

import bagit
import pytest

from ingest.adapters.clamd import ScannerUnavailable
from ingest.adapters.fakes import FAKE_VIRUS_MARKER, FakeIdentifier, FakeScanner
from ingest.adapters.format_policy import FormatPolicy
from ingest.bag import validate_bag
from ingest.context import IngestContext, Services
from ingest.onepass import read_once
from ingest.steps.scan_viruses import scan_viruses
from preservation.events import Outcome
from preservation.settings import load_settings


def make_ctx(tmp_path: Path, files: dict[str, bytes], scanner, **services) -> IngestContext:
    src = tmp_path / "bag"
    (src / "sub").mkdir(parents=True)
    for name, data in files.items():
        (src / name).write_bytes(data)
    bagit.make_bag(str(src), checksums=["sha256"])
    settings = load_settings({"KHOSO_DATA_DIR": str(tmp_path / "data")})
    ctx = IngestContext(settings, Services(scanner, FakeIdentifier(), FormatPolicy.load(),
                                           **services),
                        src, tmp_path / "work", "job-1", bag_root=src)
    ctx.bag = validate_bag(src, fast=True)
    return ctx


@pytest.mark.parametrize("size", [5, 9 * 2**20])  # batched, and read alone (pipelined)
def test_scanner_down_is_a_system_error_not_a_verdict(tmp_path, size):
    """clamd unreachable gives no issue on the file: the step raises a transient error."""
    ctx = make_ctx(tmp_path, {"a.txt": b"a" * size, "b.txt": b"beta"},
                   FakeScanner(failure="clamd not reachable at unix:///x.sock",
                               unavailable=True))
    with pytest.raises(ScannerUnavailable) as err:
        scan_viruses(ctx)
    assert err.value.code == "CLAM061" and err.value.transient
    assert "clamd" in err.value.message("en") and "unix:///x.sock" in err.value.message("en")
    assert not ctx.report.issues


@pytest.mark.parametrize("pipelined", [False, True])
def test_read_once_feeds_every_digest_the_scanner_and_the_copy(tmp_path, pipelined):
    data = b"x" * (3 * 2**20 + 17)
    src = tmp_path / "f"
    src.write_bytes(data)
    scanner = FakeScanner()
    result = read_once(src, ["sha256", "sha512"], scanner, copy_to=tmp_path / "out" / "f",
                       pipelined=pipelined)
    assert result.digests == {"sha256": hashlib.sha256(data).hexdigest(),
                              "sha512": hashlib.sha512(data).hexdigest()}
    assert result.scan.clean and result.scan.bytes_scanned == len(data)
    assert (tmp_path / "out" / "f").read_bytes() == data
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["f"]  # no temporary left


def test_clean_bag_passes_with_one_event_per_file(tmp_path):
    ctx = make_ctx(tmp_path, {"a.txt": b"alpha", "sub/b.txt": b"beta"}, FakeScanner())
    result = scan_viruses(ctx)
    assert result.outcome is Outcome.SUCCESS and not result.issues
    assert sorted(ctx.files) == ["a.txt", "sub/b.txt"]
    assert ctx.files["a.txt"].sha256 == hashlib.sha256(b"alpha").hexdigest()
    assert [e.event_type for e in result.events].count("virus check") == 2


def test_infected_file_fails(tmp_path):
    ctx = make_ctx(tmp_path, {"a.txt": b"..." + FAKE_VIRUS_MARKER}, FakeScanner())
    result = scan_viruses(ctx)
    assert result.outcome is Outcome.FAILURE
    assert {i.code for i in result.issues} == {"AV001"}


def test_a_changed_file_is_caught_by_the_same_pass(tmp_path):
    ctx = make_ctx(tmp_path, {"a.txt": b"alpha"}, FakeScanner())
    (ctx.bag_root / "data" / "a.txt").write_bytes(b"alphA")
    result = scan_viruses(ctx)
    assert {i.code for i in result.issues} == {"BAG019"}
    assert "'data/a.txt'" in result.issues[0].message("en")  # it used to print '?'


@pytest.mark.parametrize(("reject", "codes", "outcome"), [
    (True, {"AV002"}, Outcome.FAILURE),
    (False, {"ING004"}, Outcome.WARNING),
])
def test_not_scanned_rejects_by_default(tmp_path, reject, codes, outcome):
    ctx = make_ctx(tmp_path, {"a.txt": b"alpha"}, FakeScanner(failure="clamd: connection reset"),
                   reject_not_scanned=reject)
    result = scan_viruses(ctx)
    assert {i.code for i in result.issues} == codes
    assert result.outcome is outcome
    scan_events = [e for e in result.events if e.event_type == "virus check"]
    assert scan_events[0].outcome is (Outcome.FAILURE if reject else Outcome.NOT_PERFORMED)


@pytest.mark.parametrize("pipelined", [False, True])
@pytest.mark.parametrize("offset", [0, 5, 2**20 - 4, 2**20, 3 * 2**20 - 10])
def test_read_once_sees_a_signature_marker_anywhere(tmp_path, offset, pipelined):
    data = bytearray(b"x" * (3 * 2**20))
    data[offset:offset + 10] = b"/ByteRange"
    src = tmp_path / "f.pdf"
    src.write_bytes(bytes(data))
    assert read_once(src, ["sha256"], None, pipelined=pipelined).marker
    src.write_bytes(b"x" * (3 * 2**20))
    assert not read_once(src, ["sha256"], None, pipelined=pipelined).marker


class RecordingSink:
    def __init__(self, fail_at: int | None = None):
        self.data, self.state, self.fail_at = bytearray(), "open", fail_at

    def write(self, data):
        if self.fail_at is not None and len(self.data) >= self.fail_at:
            raise OSError(28, "No space left on device")
        self.data += data

    def close(self, sha256, size):
        assert hashlib.sha256(self.data).hexdigest() == sha256 and len(self.data) == size
        self.state = "closed"

    def abort(self):
        self.state = "aborted"


@pytest.mark.parametrize("pipelined", [False, True])
def test_read_once_closes_sinks_of_a_clean_file_and_aborts_an_infected_one(tmp_path, pipelined):
    src = tmp_path / "f"
    src.write_bytes(b"y" * (2 * 2**20 + 5))
    clean = [RecordingSink(), RecordingSink()]
    read_once(src, ["sha256"], FakeScanner(), sinks=clean, pipelined=pipelined)
    assert [s.state for s in clean] == ["closed", "closed"]
    src.write_bytes(b"y" * 2**20 + FAKE_VIRUS_MARKER + b"y" * 2**20)
    infected = [RecordingSink()]
    result = read_once(src, ["sha256"], FakeScanner(), sinks=infected, pipelined=pipelined)
    assert result.scan.infected and infected[0].state == "aborted"


@pytest.mark.parametrize("pipelined", [False, True])
def test_read_once_a_failing_copy_raises_and_aborts_the_others(tmp_path, pipelined):
    src = tmp_path / "f"
    src.write_bytes(b"z" * (4 * 2**20))
    good, bad = RecordingSink(), RecordingSink(fail_at=2**20)
    with pytest.raises(OSError, match="No space"):
        read_once(src, ["sha256"], FakeScanner(), sinks=[good, bad], copy_to=tmp_path / "c",
                  pipelined=pipelined)
    assert good.state == "aborted" and not (tmp_path / "c").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


@pytest.mark.parametrize("pipelined", [False, True])
@pytest.mark.parametrize("size", [1, 4096, 4096 * 3, 4096 * 3 + 7])
def test_read_once_gives_block_digests_from_the_same_pass(tmp_path, pipelined, size):
    from preservation.blockhash import BlockHasher

    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    src = tmp_path / "f"
    src.write_bytes(data)
    result = read_once(src, ["md5", "sha256"], None, chunk=1000, pipelined=pipelined,
                       block_size=4096)
    expected = BlockHasher(4096)
    expected.update(data)
    assert result.block_digests == expected.digests()
    assert len(result.block_digests) == 32 * -(-size // 4096)
    assert result.digests == {"md5": hashlib.md5(data).hexdigest(),
                              "sha256": hashlib.sha256(data).hexdigest()}


def test_read_once_without_a_block_size_gives_none(tmp_path):
    src = tmp_path / "f"
    src.write_bytes(b"abc")
    assert read_once(src, ["sha256"], None).block_digests is None


def test_the_scan_step_keeps_block_digests_for_files_read_alone_only(tmp_path):
    from preservation.blockhash import BLOCK, BlockHasher

    big = bytes(range(256)) * (9 * 2**20 // 256)  # read alone, pipelined: 3 blocks
    ctx = make_ctx(tmp_path, {"big.bin": big, "small.txt": b"small"}, FakeScanner())
    assert scan_viruses(ctx).outcome is Outcome.SUCCESS
    expected = BlockHasher(BLOCK)
    expected.update(big)
    assert ctx.files["big.bin"].block_digests == expected.digests()
    assert ctx.files["small.txt"].block_digests is None  # batched: verified whole when served
