"""A body the web server has spooled to a file of its own (waitress does so for every body past
its ``inbuf_overflow``, then calls the app with ``wsgi.input`` on that file) is copied to
staging in the kernel, never read through Python; whatever stops that copy leaves nothing
staged and no job; a spool the kernel cannot copy, or one not holding the declared length, is
read as a stream as before."""

from __future__ import annotations

import errno
import os
import tempfile

import pytest

from tests.integration.api.test_submissions import jobs, staged
from tests.support.api_submissions import client, run_queued, token_for, zipped_sip

pytestmark = pytest.mark.integration


class Spool:
    """``wsgi.input`` as waitress hands a spooled body over: an anonymous temporary file at
    the body's first byte. ``readable=False``: reading it through Python fails the test."""

    def __init__(self, data: bytes, *, before: bytes = b"", after: bytes = b"",
                 readable: bool = True) -> None:
        self.file = tempfile.TemporaryFile("w+b")
        self.file.write(before + data + after)
        self.file.seek(len(before))
        self.readable = readable

    def fileno(self) -> int:
        return self.file.fileno()

    def tell(self) -> int:
        return self.file.tell()

    def read(self, size: int = -1, /) -> bytes:
        assert self.readable, "a spooled body was read through Python"
        return self.file.read(size)


def send(c, headers, spool: Spool, length: int | None, content_type="application/zip"):
    environ = {"wsgi.input": spool, "wsgi.input_terminated": True}
    if length is not None:
        environ["CONTENT_LENGTH"] = str(length)
    return c.post("/api/v1/submissions", headers={**headers, "Content-Type": content_type},
                  environ_overrides=environ)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize("before", [b"", b"\r\n\r\nHTTP"], ids=["at-0", "at-offset"])
def test_a_spooled_body_is_copied_by_the_kernel_and_ingested(khoso, declared, before):
    admin = token_for(khoso, "quan-tri", "admin")
    data = zipped_sip(khoso.tmp / "s").read_bytes()
    r = send(client(khoso), admin, Spool(data, before=before, readable=False),
             len(data) if declared else None)
    assert r.status_code == 202, r.get_json()
    [name] = staged(khoso)
    path = khoso.settings.data_dir / "submissions" / name
    assert path.read_bytes() == data
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()  # as a file open() makes
    assert run_queued(khoso, r.get_json()["job"]).accepted


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_a_spool_short_of_the_declared_length_is_a_body_cut_short(khoso):
    admin = token_for(khoso, "quan-tri", "admin")
    data = zipped_sip(khoso.tmp / "m").read_bytes()
    r = send(client(khoso), admin, Spool(data[:-10]), len(data))
    assert r.status_code == 400 and r.get_json()["code"] == "SUB005", r.get_json()
    assert staged(khoso) == [] and jobs(khoso) == []


def test_a_kernel_without_copy_file_range_copies_with_sendfile(khoso, monkeypatch):
    calls: list[int] = []
    real = os.sendfile

    def no_range(*_):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    def counted(*args):
        calls.append(args[3])
        return real(*args)

    monkeypatch.setattr(os, "copy_file_range", no_range)
    monkeypatch.setattr(os, "sendfile", counted)
    admin = token_for(khoso, "quan-tri", "admin")
    data = zipped_sip(khoso.tmp / "x").read_bytes()
    r = send(client(khoso), admin, Spool(data, readable=False), len(data))
    assert r.status_code == 202, r.get_json()
    assert calls and calls[0] == len(data)
    [name] = staged(khoso)
    assert (khoso.settings.data_dir / "submissions" / name).read_bytes() == data


def test_a_kernel_copying_neither_way_reads_the_body_as_a_stream(khoso, monkeypatch):
    def refused(*_):
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(os, "copy_file_range", refused)
    monkeypatch.setattr(os, "sendfile", refused)
    admin = token_for(khoso, "quan-tri", "admin")
    data = zipped_sip(khoso.tmp / "n").read_bytes()
    r = send(client(khoso), admin, Spool(data), len(data))
    assert r.status_code == 202, r.get_json()
    [name] = staged(khoso)
    assert (khoso.settings.data_dir / "submissions" / name).read_bytes() == data


def test_the_disk_failing_mid_copy_is_503_with_nothing_staged(khoso, monkeypatch):
    real = os.copy_file_range
    copied: list[int] = []

    def full_after_one_piece(src, dst, count, offset_src=None, offset_dst=None):
        if copied:
            raise OSError(errno.ENOSPC, "No space left on device")
        copied.append(real(src, dst, min(count, 1000), offset_src, offset_dst))
        return copied[0]

    monkeypatch.setattr(os, "copy_file_range", full_after_one_piece)
    admin = token_for(khoso, "quan-tri", "admin")
    data = zipped_sip(khoso.tmp / "f").read_bytes()
    r = send(client(khoso), admin, Spool(data, readable=False), len(data))
    assert r.status_code == 503 and r.get_json()["code"] == "SUB006", r.get_json()
    assert r.headers["Retry-After"] and copied == [1000]
    assert staged(khoso) == [] and jobs(khoso) == []


def test_a_spooled_body_over_the_limit_is_413_with_nothing_kept(khoso):
    admin = token_for(khoso, "quan-tri", "admin")
    r = send(client(khoso, max_upload_bytes=4096), admin,
             Spool(b"PK\x03\x04" + b"x" * 5000, readable=False), None)
    assert r.status_code == 413 and r.get_json()["code"] == "API004"
    assert staged(khoso) == [] and jobs(khoso) == []


def test_a_spool_ending_before_its_size_is_503_with_nothing_staged(khoso, monkeypatch):
    """A spool file shortened while copied (copy_file_range returns 0 early): the archive's
    fault, not a body cut short by the client (which waitress never hands over)."""
    monkeypatch.setattr(os, "copy_file_range", lambda *_: 0)
    admin = token_for(khoso, "quan-tri", "admin")
    data = zipped_sip(khoso.tmp / "e").read_bytes()
    r = send(client(khoso), admin, Spool(data, readable=False), len(data))
    assert r.status_code == 503 and r.get_json()["code"] == "SUB006", r.get_json()
    assert staged(khoso) == [] and jobs(khoso) == []
