"""Cold downloads streamed block by block (``access_api.services.stream``) on a filesystem
location and an S3 location (the moto server), SQLite and PostgreSQL: the first delivery records
the block digests, the next cold one streams; a copy bad in one block is flagged and the reader
still gets every byte right from the other location; a block bad everywhere ends the transfer
with only verified bytes; a range reads only the blocks that cover it; a block list that does
not chain to the file's SHA-256 never lets a transfer complete.

The file is placed as an AIP the catalog knows (rows and objects written directly, as
``bench/bench_download.py`` does): an ingest would only add minutes of clamd. Blocks are 64 KiB
here (the list keeps its own block size) so a 1 MiB file has 16 of them.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from access_api.services import blocks as block_store
from access_api.services import delivery
from access_api.services.stream import TransferAborted
from preservation.blockhash import BlockHasher
from preservation.catalog import registry
from preservation.catalog.db import Catalog
from preservation.catalog.models import (
    Agency,
    AuditEntry,
    Bitstream,
    BlockDigests,
    Document,
    Package,
    PremisEvent,
    RecordFile,
    StoredCopy,
)
from preservation.settings import load_settings
from storage.filesystem import FilesystemStorage
from storage.s3 import S3Storage
from tests.support.catalog_api import make_api
from tests.support.sips import FOND, ORGAN

BS = 64 << 10
SIZE = 16 * BS - 1000  # a short last block
CODE = "TTLTNA.000.00.00.H41.2001.00001"
PATH = "data/representations/rep1/data/big.pdf"


@dataclass
class World:
    settings: object
    catalog: Catalog
    api: object
    content: bytes
    url: str
    key: str
    locations: dict[str, object]  # name -> Storage
    raw_s3: object
    bucket: str

    def put(self, location: str, data: bytes) -> None:
        """Replace the object's bytes behind the storage's back (as rot or an attack would)."""
        if location == "disk":
            path = Path(self.settings.storage_locations[self._index("disk")].path) / self.key
            os.chmod(path, 0o644)
            path.write_bytes(data)
        else:
            head = self.raw_s3.head_object(Bucket=self.bucket, Key=self.key)
            self.raw_s3.put_object(Bucket=self.bucket, Key=self.key, Body=data,
                                   Metadata=head["Metadata"])

    def _index(self, name: str) -> int:
        return [loc.name for loc in self.settings.storage_locations].index(name)

    def empty_cache(self) -> None:
        shutil.rmtree(self.settings.data_dir / "cache" / "files", ignore_errors=True)

    def audit(self, action: str) -> list[AuditEntry]:
        with self.catalog.session() as s:
            rows = list(s.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))
            s.expunge_all()
        return rows

    def copy_check(self, location: str) -> tuple[str, int]:
        """(last check result, failed fixity events) of the copy in ``location``."""
        with self.catalog.session() as s:
            copy = s.scalar(sa.select(StoredCopy).where(StoredCopy.location == location))
            failed = s.scalar(sa.select(sa.func.count()).where(
                PremisEvent.stored_copy_id == copy.id, PremisEvent.event_type == "fixity check",
                PremisEvent.outcome == "failure"))
            return copy.last_check_result, failed

    def blocks_row(self) -> BlockDigests | None:
        with self.catalog.session() as s:
            row = s.get(BlockDigests, hashlib.sha256(self.content).hexdigest())
            if row is not None:
                s.expunge(row)
            return row


def place(catalog: Catalog, stores: list, content: bytes) -> tuple[str, str]:
    prefix = f"TTLTNA/{FOND}/{CODE}/v1"
    sha = hashlib.sha256(content).hexdigest()
    for store in stores:
        store.put(f"{prefix}/{PATH}", io.BytesIO(content), expected_sha256=sha, size=len(content))
    with catalog.session() as s:
        fonds_id = s.execute(sa.text("SELECT id FROM fonds WHERE fond_code = :c"),
                             {"c": FOND}).scalar_one()
        agency = s.scalar(sa.select(Agency).where(Agency.organ_id == ORGAN))
        rf = RecordFile(fonds_id=fonds_id, file_code=CODE, arc_file_code=CODE,
                        title="Hồ sơ tải xuống theo khối", maintenance="01", mode="01",
                        languages=["01"], start_date="2001-01-02", end_date="2001-12-28",
                        total_doc=1, number_of_page=1)
        s.add(rf)
        s.flush()
        pkg = Package(objid=f"urn:{FOND}:uuid-{uuid.uuid4()}", kind="AIP", status="active",
                      record_file_id=rf.id, fonds_id=fonds_id, agency_id=agency.id,
                      label=rf.title, total_size=len(content), file_count=1)
        s.add(pkg)
        s.flush()
        doc = Document(record_file_id=rf.id, package_id=pkg.id, kind="van_ban",
                       doc_code=f"{CODE}.0000001", doc_ordinal=1, mode="01", languages=["01"],
                       type_name="02", issued_date="2001-03-15", organ_name="UBND",
                       subject="Quyết định", number_of_page=1)
        s.add(doc)
        s.flush()
        s.add(Bitstream(package_id=pkg.id, document_id=doc.id, path=PATH, size=len(content),
                        sha256=sha, mime="application/pdf", puid="fmt/276"))
        for store in stores:
            s.add(StoredCopy(package_id=pkg.id, location=store.name, key=prefix,
                             sha256="0" * 64, size=len(content), last_check_result="ok"))
        return doc.doc_code, f"{prefix}/{PATH}"


@pytest.fixture(params=["disk", "s3"])
def world(request, tmp_path, db_url, s3_endpoint, monkeypatch) -> World:
    """Two copies, in a filesystem location and an S3 bucket; the parameter is read first."""
    import boto3

    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE",
                 "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "khoso-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "khoso-test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(block_store, "BLOCK_SIZE", BS)
    raw = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    bucket = f"khoso-test-{uuid.uuid4().hex[:16]}"
    raw.create_bucket(Bucket=bucket)
    data = tmp_path / "data"
    disk = data / "disk"
    disk.mkdir(parents=True)
    urls = {"disk": f"disk=file://{disk}",
            "s3": f"s3=s3://{bucket}?endpoint={s3_endpoint}&region=us-east-1"}
    order = [request.param] + [n for n in urls if n != request.param]
    settings = load_settings({
        "KHOSO_DATA_DIR": str(data), "KHOSO_DATABASE_URL": db_url,
        "KHOSO_CLAMD": "tcp://127.0.0.1:9", "KHOSO_CLAMD_MANAGED": "false",
        "KHOSO_STORAGE_LOCATIONS": ",".join(urls[n] for n in order),
        "KHOSO_ARCHIVE_CODE": "TTLTNA"})
    catalog = Catalog(settings.database_url)
    catalog.upgrade()
    with catalog.session() as s:
        body = registry.ensure_archive_body(s, "TTLTNA", "Trung tâm Lưu trữ tỉnh", "lich_su")
        registry.add_agency(s, ORGAN, "UBND huyện Nghi Lộc")
        registry.add_fonds(s, body, registry.FondsInput(FOND, "Phông UBND huyện Nghi Lộc"))
    stores = {"disk": FilesystemStorage(disk, name="disk"),
              "s3": S3Storage(bucket, endpoint_url=s3_endpoint, region="us-east-1", name="s3")}
    content = os.urandom(SIZE)
    doc, key = place(catalog, list(stores.values()), content)
    api = make_api(SimpleNamespace(settings=settings, catalog=catalog))
    yield World(settings, catalog, api, content, f"/api/v1/documents/{doc}/files/big.pdf", key,
                stores, raw, bucket)
    catalog.dispose()
    delivery._caches.pop(settings.data_dir / "cache", None)


def first_and_second(world: World) -> tuple[str, str]:
    names = [loc.name for loc in world.settings.storage_locations]
    return names[0], names[1]


def rot(data: bytes, block: int, bs: int = BS) -> bytes:
    i = block * bs + 17
    return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]


def streamed(world: World, monkeypatch) -> list[tuple[str, int, int | None]]:
    """Make the whole-file path fail the test if it is taken; return the list of ranged
    opens (location, start, end) the storages receive."""
    def refuse(*args, **kwargs):
        raise AssertionError("the verify-first path was taken")

    monkeypatch.setattr(delivery, "read_copy", refuse)
    opens: list[tuple[str, int, int | None]] = []
    for cls in (FilesystemStorage, S3Storage):
        original = cls.open

        def spy(self, key, *, start=0, end=None, _original=original):
            opens.append((self.name, start, end))
            return _original(self, key, start=start, end=end)

        monkeypatch.setattr(cls, "open", spy)
    return opens


def get_partial(world: World, **headers) -> tuple[int, bytes, BaseException | None]:
    """Read a response as a client would until it ends or breaks."""
    resp = world.api.client.get(world.url, headers={**world.api.headers("reader"), **headers},
                                buffered=False)
    got, error = bytearray(), None
    try:
        for chunk in resp.response:
            got += chunk
    except TransferAborted as exc:
        error = exc
    finally:
        resp.close()
    return resp.status_code, bytes(got), error


def test_the_first_delivery_records_block_digests_and_the_next_cold_one_streams(
        world, monkeypatch):
    assert world.blocks_row() is None
    resp = world.api.get(world.url)
    assert resp.status_code == 200 and resp.data == world.content
    row = world.blocks_row()
    assert (row.size, row.block_size, len(row.digests)) == (SIZE, BS, 16 * 32)
    assert row.digests == b"".join(hashlib.sha256(world.content[i:i + BS]).digest()
                                   for i in range(0, SIZE, BS))
    world.empty_cache()
    opens = streamed(world, monkeypatch)
    resp = world.api.get(world.url)
    assert resp.status_code == 200 and resp.data == world.content
    assert int(resp.headers["Content-Length"]) == SIZE
    assert resp.headers["ETag"] == f'"{hashlib.sha256(world.content).hexdigest()}"'
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert [o[0] for o in opens] == [first_and_second(world)[0]]  # one read of one copy
    # the streamed file entered the cache: the next reader is a warm hit, no storage read
    assert world.api.get(world.url).data == world.content
    assert len(opens) == 1
    with world.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count()).where(
            AuditEntry.action == "access.download")) == 3


@pytest.mark.parametrize("damage", ["rot", "truncated", "grown", "missing"])
def test_a_bad_copy_is_flagged_and_the_reader_gets_every_byte_from_the_other(
        world, monkeypatch, damage):
    world.api.get(world.url)
    world.empty_cache()
    bad, good = first_and_second(world)
    opens = streamed(world, monkeypatch)
    if damage == "rot":
        world.put(bad, rot(world.content, 5))
    elif damage == "truncated":
        world.put(bad, world.content[:7 * BS + 100])
    elif damage == "grown":
        world.put(bad, world.content + b"extra")
    else:
        world.locations[bad].delete(world.key) if bad == "disk" else \
            world.raw_s3.delete_object(Bucket=world.bucket, Key=world.key)
    resp = world.api.get(world.url)
    assert resp.status_code == 200 and resp.data == world.content
    result, failed = world.copy_check(bad)
    assert (result, failed) == ("missing" if damage == "missing" else "mismatch", 1)
    assert world.copy_check(good) == ("ok", 0)
    (flagged,) = world.audit("delivery.copy_flagged")
    assert flagged.detail["location"] == bad and flagged.actor == "u-reader"
    if damage == "rot":  # the other copy is read from the bad block on, not from the start
        assert (good, 5 * BS, None) in opens and not any(o[1] == 0 for o in opens if o[0] == good)


def test_a_block_bad_in_every_copy_ends_the_transfer_with_only_verified_bytes(
        world, monkeypatch):
    world.api.get(world.url)
    world.empty_cache()
    streamed(world, monkeypatch)
    for name in world.locations:
        world.put(name, rot(world.content, 9))
    status, got, error = get_partial(world)
    assert status == 200 and isinstance(error, TransferAborted)
    assert got == world.content[:9 * BS]  # every block before the bad one, nothing after
    assert {world.copy_check(n) for n in world.locations} == {("mismatch", 1)}
    (aborted,) = world.audit("delivery.aborted")
    assert aborted.detail["code"] == "DLV001" and aborted.detail["block"] == 10
    assert aborted.detail["sent"] == 9 * BS and "không" in aborted.detail["message"]
    assert not any((world.settings.data_dir / "cache" / "files").rglob(
        hashlib.sha256(world.content).hexdigest()))
    assert not any((world.settings.data_dir / "cache" / "tmp").iterdir())


def test_a_first_block_bad_everywhere_is_503_and_nothing_is_sent(world, monkeypatch):
    world.api.get(world.url)
    world.empty_cache()
    streamed(world, monkeypatch)
    for name in world.locations:
        world.put(name, rot(world.content, 0))
    resp = world.api.get(world.url)
    assert resp.status_code == 503 and resp.get_json()["code"] == "ACS004"
    assert resp.headers["Retry-After"]
    assert world.audit("delivery.aborted") == []
    with world.catalog.session() as s:  # nothing delivered, nothing registered
        assert s.scalar(sa.select(sa.func.count()).where(
            AuditEntry.action == "access.download")) == 1


@pytest.mark.parametrize("first,last", [(7 * BS + 10, 8 * BS + 20), (100, 200),
                                        (SIZE - 5, SIZE - 1)])
def test_a_range_of_a_cold_file_reads_only_the_blocks_that_cover_it(
        world, monkeypatch, first, last):
    world.api.get(world.url)
    world.empty_cache()
    opens = streamed(world, monkeypatch)
    resp = world.api.get(world.url, Range=f"bytes={first}-{last}")
    assert resp.status_code == 206 and resp.data == world.content[first:last + 1]
    assert resp.headers["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
    assert int(resp.headers["Content-Length"]) == last + 1 - first
    b0, b1 = first // BS, last // BS
    assert opens == [(first_and_second(world)[0], b0 * BS, min((b1 + 1) * BS, SIZE))]
    # a range is not the whole file: nothing enters the cache
    assert not any((world.settings.data_dir / "cache" / "files").rglob("*"))


def test_a_range_over_a_bad_block_falls_back_and_is_exact(world, monkeypatch):
    world.api.get(world.url)
    world.empty_cache()
    bad, good = first_and_second(world)
    streamed(world, monkeypatch)
    world.put(bad, rot(world.content, 3))
    resp = world.api.get(world.url, Range=f"bytes={2 * BS}-{5 * BS}")
    assert resp.status_code == 206 and resp.data == world.content[2 * BS:5 * BS + 1]
    assert world.copy_check(bad)[0] == "mismatch"


def test_a_block_list_changed_in_the_catalog_cannot_make_a_rotted_copy_pass(world):
    """The list was rewritten to fit a rotted copy (every block of it would match): its seal
    no longer does, so it is dropped, the whole file is verified first, the rotted copy is
    caught and the reader gets the good one; a new, sealed list is recorded."""
    world.api.get(world.url)
    world.empty_cache()
    bad, good = first_and_second(world)
    rotted = rot(world.content, 4)
    world.put(bad, rotted)
    hasher = BlockHasher(BS)
    hasher.update(rotted)
    with world.catalog.session() as s:
        s.get(BlockDigests, hashlib.sha256(world.content).hexdigest()).digests = hasher.digests()
    resp = world.api.get(world.url)
    assert resp.status_code == 200 and resp.data == world.content
    (dropped,) = world.audit("delivery.blocks_discarded")
    assert dropped.detail["code"] == "DLV002" and "niêm phong" in dropped.detail["message"]
    assert world.copy_check(bad) == ("mismatch", 1) and world.copy_check(good) == ("ok", 0)
    row = world.blocks_row()
    assert row.digests != hasher.digests() and len(row.seal) == 32
    # a seal copied from another row does not fit either
    with world.catalog.session() as s:
        s.get(BlockDigests, row.sha256).seal = bytes(32)
    world.empty_cache()
    assert world.api.get(world.url).data == world.content
    assert len(world.audit("delivery.blocks_discarded")) == 2


def test_a_block_list_of_the_wrong_shape_is_not_used(world, monkeypatch):
    world.api.get(world.url)
    world.empty_cache()
    with world.catalog.session() as s:
        row = s.get(BlockDigests, hashlib.sha256(world.content).hexdigest())
        row.digests = row.digests[:-32]
    called = []
    original = delivery.read_copy
    monkeypatch.setattr(delivery, "read_copy",
                        lambda *a, **k: called.append(1) or original(*a, **k))
    assert world.api.get(world.url).data == world.content
    assert called  # verified whole first


def test_concurrent_cold_readers_each_get_the_verified_file(world):
    world.api.get(world.url)
    world.empty_cache()
    results: list[bytes] = []

    def read() -> None:
        results.append(world.api.get(world.url).data)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [world.content] * 3
    assert world.api.get(world.url).data == world.content


def test_over_waitress_an_aborted_transfer_is_a_short_body_the_client_sees_fail(
        world, monkeypatch):
    """What a real client sees when the block after 9 verified ones is bad everywhere: the
    headers promised the whole file, the connection closes after the verified bytes."""
    import http.client

    from waitress import create_server

    from access_api.app import create_app

    world.api.get(world.url)
    world.empty_cache()
    for name in world.locations:
        world.put(name, rot(world.content, 9))
    server = create_server(create_app(world.settings, world.catalog), host="127.0.0.1", port=0,
                           threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=60)
        conn.request("GET", world.url, headers=world.api.headers("reader"))
        resp = conn.getresponse()
        assert resp.status == 200 and int(resp.headers["Content-Length"]) == SIZE
        with pytest.raises(http.client.IncompleteRead) as failed:
            resp.read()
        assert failed.value.partial == world.content[:9 * BS]
        conn.close()
    finally:
        server.close()
        thread.join(10)
    (aborted,) = world.audit("delivery.aborted")
    assert aborted.detail["code"] == "DLV001"


def test_a_cache_writer_slower_than_the_transfer_gives_up_and_the_reader_is_served(
        world, monkeypatch):
    import time

    from access_api.services import stream

    world.api.get(world.url)
    world.empty_cache()
    monkeypatch.setattr(stream, "_BACKLOG", 1)
    run = stream._Keeper._run

    def slow(self):
        time.sleep(0.5)
        run(self)

    monkeypatch.setattr(stream._Keeper, "_run", slow)
    resp = world.api.get(world.url)
    assert resp.status_code == 200 and resp.data == world.content
    cache = world.settings.data_dir / "cache"
    assert not any((cache / "files").rglob("*")) and not any((cache / "tmp").iterdir())


def test_a_stream_closed_before_its_first_byte_leaves_nothing_open(world):
    """A response dropped before it is iterated (a client gone, a failed register) still ends
    the storage read and the cache writer, and leaves no temporary file."""
    from access_api.services.base import Identity, ServiceContext, UserRole
    from access_api.services.files import locate
    from access_api.services.stream import Streamed, open_file

    world.api.get(world.url)
    world.empty_cache()
    ctx = ServiceContext(world.settings, world.catalog)
    reader = Identity("u-reader", frozenset({UserRole.READER}))
    target = locate(ctx, reader, world.url.split("/")[4], "big.pdf")
    before = threading.active_count()
    opened = open_file(ctx, reader, target.file)
    assert isinstance(opened, Streamed)
    opened.close()
    assert threading.active_count() == before
    assert not any((world.settings.data_dir / "cache" / "tmp").iterdir())
    opened = open_file(ctx, reader, target.file)
    assert b"".join(opened) == world.content
    opened.close()


def test_a_streamed_file_larger_than_keep_max_is_served_and_not_kept(world, monkeypatch):
    from access_api.services import stream

    world.api.get(world.url)
    world.empty_cache()
    monkeypatch.setattr(stream, "KEEP_MAX", SIZE - 1)
    opens = streamed(world, monkeypatch)
    assert world.api.get(world.url).data == world.content
    assert world.api.get(world.url).data == world.content  # streamed again
    assert len(opens) == 2
    cache = world.settings.data_dir / "cache"
    assert not any((cache / "files").rglob("*")) and not any((cache / "tmp").iterdir())


@contextlib.contextmanager
def served(world: World):
    """The app under a real waitress server in a thread; yields its port."""
    from waitress import create_server

    from access_api.app import create_app

    server = create_server(create_app(world.settings, world.catalog), host="127.0.0.1", port=0,
                           threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server.effective_port
    finally:
        server.close()
        thread.join(10)


def fetch_over(world: World, port: int, **headers) -> tuple[int, dict[str, str], bytes]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", world.url, headers={**world.api.headers("reader"), **headers})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, dict(resp.headers), data


def handed_over(monkeypatch) -> list[int]:
    """The sizes of the blocks waitress's channel queued as they are (no copy)."""
    from access_api.api import waitress_send

    sizes: list[int] = []
    original = waitress_send._Block.__init__

    def spy(self, data):
        original(self, data)
        sizes.append(len(self))

    monkeypatch.setattr(waitress_send._Block, "__init__", spy)
    return sizes


def test_over_waitress_a_cold_file_goes_out_block_by_block_without_a_copy(world, monkeypatch):
    world.api.get(world.url)
    world.empty_cache()
    opens = streamed(world, monkeypatch)
    sizes = handed_over(monkeypatch)
    with served(world) as port:
        status, headers, data = fetch_over(world, port)
    assert status == 200 and int(headers["Content-Length"]) == SIZE
    assert data == world.content
    assert sizes == [BS] * 15 + [BS - 1000]  # each verified block handed over as it is
    assert len(opens) == 1


@pytest.mark.parametrize("first,last", [(0, 99), (BS - 5, 3 * BS + 6), (SIZE - 10, SIZE - 1),
                                        (5 * BS, 6 * BS - 1)])
def test_over_waitress_a_range_is_exact_to_the_byte(world, monkeypatch, first, last):
    world.api.get(world.url)
    world.empty_cache()
    streamed(world, monkeypatch)
    with served(world) as port:
        status, headers, data = fetch_over(world, port, Range=f"bytes={first}-{last}")
    assert status == 206 and headers["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
    assert data == world.content[first:last + 1]


def test_over_waitress_a_copy_bad_in_one_block_is_never_sent(world, monkeypatch):
    """The rotted block of the first copy is replaced by the other copy's, in the same
    response; the bad copy is flagged."""
    world.api.get(world.url)
    world.empty_cache()
    bad, good = first_and_second(world)
    world.put(bad, rot(world.content, 7))
    with served(world) as port:
        status, _, data = fetch_over(world, port)
    assert status == 200 and data == world.content
    assert world.copy_check(bad)[0] != "ok" and world.copy_check(good)[0] == "ok"


def test_over_waitress_a_client_gone_mid_transfer_ends_the_storage_read(world, monkeypatch):
    """A reader who hangs up after the first bytes: the server stops reading the copy (the
    stream's close runs) and later readers are served."""
    import http.client

    from access_api.services import stream

    world.api.get(world.url)
    world.empty_cache()
    monkeypatch.setattr(stream, "KEEP_MAX", 0)  # no cache writer: only the transfer reads
    closed = threading.Event()
    original = stream._BlockReader.close

    def spy(self):
        original(self)
        closed.set()

    monkeypatch.setattr(stream._BlockReader, "close", spy)
    with served(world) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", world.url, headers=world.api.headers("reader"))
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read(1000) == world.content[:1000]
        conn.sock.close()
        conn.close()
        assert closed.wait(30)
        assert not [t for t in threading.enumerate() if t.name == "khoso-read-ahead"]
        status, _, data = fetch_over(world, port)
    assert status == 200 and data == world.content


def test_blocks_are_read_ahead_in_order_and_a_failure_there_reaches_the_transfer(
        world, monkeypatch):
    """The read-ahead thread hands over the blocks in order; a storage error it meets is
    raised in the transfer (which ends it) and the thread is gone."""
    from access_api.services import stream

    world.api.get(world.url)
    world.empty_cache()
    monkeypatch.setattr(stream, "KEEP_MAX", 0)
    original = stream._BlockReader.block

    def failing(self, index):
        if index == 5:
            raise RuntimeError("storage client bug")
        return original(self, index)

    monkeypatch.setattr(stream._BlockReader, "block", failing)
    resp = world.api.client.get(world.url, headers=world.api.headers("reader"), buffered=False)
    got = bytearray()
    with pytest.raises(RuntimeError, match="storage client bug"):
        for chunk in resp.response:
            got += chunk
    resp.close()
    assert bytes(got) == world.content[:5 * BS]
    assert not [t for t in threading.enumerate() if t.name == "khoso-read-ahead"]
