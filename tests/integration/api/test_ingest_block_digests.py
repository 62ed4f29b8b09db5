"""Block digests computed by ingest's read pass (``ingest.onepass``): an accepted AIP's large
files are streamed block by block from their very first download, never verified whole first;
the list is sealed like the ones a delivery records, and a copy rotted before that first
download is still never served."""

from __future__ import annotations

import hashlib
import io
import os
from urllib.parse import quote

import sqlalchemy as sa
from fpdf import FPDF
from PIL import Image

from access_api.services import blocks as block_store
from access_api.services import delivery
from access_api.services.base import ServiceContext
from preservation.blockhash import BLOCK, BlockHasher
from preservation.catalog.models import BlockDigests
from tests.support.catalog_api import make_api, make_mode_sip

CODE = "H49.64.33.2001.301"
NAME = "Bản đồ quy hoạch.pdf"


def big_pdf(pages: int = 3) -> bytes:
    """A real PDF of about 3.6 MiB a page: each page one image of random pixels (which no
    compression shrinks)."""
    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        img = Image.frombytes("RGB", (1100, 1100), os.urandom(1100 * 1100 * 3))
        buf = io.BytesIO()
        img.save(buf, format="PNG", compress_level=1)
        buf.seek(0)
        pdf.image(buf, x=10, y=10, w=180)
    return bytes(pdf.output())


def test_an_ingested_large_file_streams_from_its_first_download(khoso, monkeypatch):
    body = big_pdf()
    assert len(body) > 2 * BLOCK  # three blocks
    sip = make_mode_sip(khoso.tmp / CODE, CODE, mode="01", doc_modes=("01", "01"),
                        names=(NAME, "anh.png"), contents={NAME: body})
    outcome = khoso.ingest(sip)
    assert outcome.accepted, outcome.report
    sha = hashlib.sha256(body).hexdigest()
    with khoso.catalog.session() as s:
        rows = list(s.scalars(sa.select(BlockDigests)))
        row = s.get(BlockDigests, sha)
        assert row is not None and (row.size, row.block_size) == (len(body), BLOCK)
        expected = BlockHasher(BLOCK)
        expected.update(body)
        assert bytes(row.digests) == expected.digests()
    assert len(rows) == 1  # the small PNG is verified whole when it is first served
    ctx = ServiceContext(khoso.settings, khoso.catalog)
    assert isinstance(block_store.load(ctx, sha, len(body)), block_store.Blocks)  # sealed

    def refuse(*args, **kwargs):
        raise AssertionError("the first download verified the whole file first")

    monkeypatch.setattr(delivery, "read_copy", refuse)
    api = make_api(khoso)
    url = f"/api/v1/documents/{CODE}.0000001/files/{quote(NAME)}"
    resp = api.get(url)
    assert resp.status_code == 200 and resp.data == body
    part = api.get(url, Range=f"bytes={BLOCK - 10}-{BLOCK + 9}")
    assert part.status_code == 206 and part.data == body[BLOCK - 10:BLOCK + 10]


def test_a_copy_rotted_before_the_first_download_is_never_served(khoso):
    body = big_pdf(2)
    sip = make_mode_sip(khoso.tmp / CODE, CODE, mode="01", doc_modes=("01", "01"),
                        names=(NAME, "anh.png"), contents={NAME: body})
    assert khoso.ingest(sip).accepted
    rotted = 0
    for replica in ("replica1", "replica2"):
        for path in khoso.replica(replica).rglob(NAME):
            data = bytearray(path.read_bytes())
            data[BLOCK + 5] ^= 0xFF  # the second block, in both copies
            os.chmod(path, 0o644)
            path.write_bytes(bytes(data))
            rotted += 1
    assert rotted == 2
    api = make_api(khoso)
    resp = api.client.get(f"/api/v1/documents/{CODE}.0000001/files/{quote(NAME)}",
                          headers=api.headers("reader"), buffered=False)
    got = bytearray()
    try:
        for chunk in resp.response:
            got += chunk
    except Exception:  # noqa: BLE001 - the transfer is aborted after the verified block
        pass
    finally:
        resp.close()
    assert bytes(got) == body[:BLOCK]  # the verified first block only, never a rotted byte
