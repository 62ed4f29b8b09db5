"""Batched small-file scanning against the real clamd: members of the tar stream are scanned."""

from __future__ import annotations

import pytest

from ingest.adapters.clamd import ClamdScanner, ScanStatus
from ingest.batchscan import scan_small_files
from tests.support.viruses import EICAR, zipped

pytestmark = pytest.mark.integration


class Counting(ClamdScanner):
    sessions = 0

    def open_stream(self):
        self.sessions += 1
        return super().open_stream()


def files(tmp_path, contents):
    out = []
    for i, data in enumerate(contents):
        (tmp_path / f"{i:04d}.pdf").write_bytes(data)
        out.append((tmp_path / f"{i:04d}.pdf", None))
    return out


def small_pdf(i: int) -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Length 20 >> stream\n" + b"%019d" % i + b"\nendstream endobj\n%%EOF\n"


def test_a_clean_batch_is_one_scan_with_the_engine_recorded(tmp_path, clamd_address):
    scanner = Counting(clamd_address, timeout=30)
    results = scan_small_files(files(tmp_path, [small_pdf(i) for i in range(200)]),
                               ["sha256"], scanner)
    assert scanner.sessions == 1
    assert all(r.scan.clean and r.scan.engine_version.startswith("ClamAV ") for r in results)


@pytest.mark.parametrize("where", [0, 150, 299])
def test_eicar_anywhere_in_a_batch_is_found_and_named_on_its_own_file(tmp_path, clamd_address,
                                                                       where):
    contents = [small_pdf(i) for i in range(300)]
    contents[where] = EICAR
    scanner = Counting(clamd_address, timeout=30)
    results = scan_small_files(files(tmp_path, contents), ["sha256"], scanner)
    infected = [i for i, r in enumerate(results) if r.scan.status is ScanStatus.INFECTED]
    assert infected == [where] and results[where].scan.signature.startswith("Test.EICAR.")
    assert scanner.sessions == 1 + 300  # the batch, then each file of it on its own


def test_eicar_in_a_nested_zip_among_small_files_is_found(tmp_path, clamd_address):
    contents = [small_pdf(i) for i in range(20)]
    contents[7] = zipped("ho-so.zip", zipped("eicar.com", EICAR))
    results = scan_small_files(files(tmp_path, contents), ["sha256"],
                               ClamdScanner(clamd_address, timeout=30))
    assert [i for i, r in enumerate(results) if r.scan.infected] == [7]


def test_clamd_down_leaves_each_file_not_scanned(tmp_path):
    results = scan_small_files(files(tmp_path, [small_pdf(1), small_pdf(2)]), ["sha256"],
                               ClamdScanner(f"unix://{tmp_path}/no.sock", timeout=2))
    assert all(r.scan.status is ScanStatus.NOT_SCANNED and "not reachable" in r.scan.detail
               for r in results)
