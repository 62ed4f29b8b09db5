"""The block buffer handed to waitress's channel (``access_api.api.waitress_send``), driven the
way waitress drives it: the task's ``write`` slices it to the Content-Length, the channel asks
it for what to send and skips what the socket took."""

from __future__ import annotations

import pytest
from waitress.buffers import ReadOnlyFileBasedBuffer

from access_api.api.waitress_send import _block_class, sendable

Block = _block_class(ReadOnlyFileBasedBuffer)
DATA = bytes(range(256)) * 64  # 16 KiB


def drain(block, takes: list[int]) -> bytes:
    """What a channel sends when the socket takes ``takes`` bytes at each call."""
    out = bytearray()
    for take in takes:
        if not len(block):
            break
        chunk = block.get(18000)
        sent = bytes(chunk[:take])
        out += sent
        block.skip(len(sent), True)
    return bytes(out)


def test_it_is_what_waitress_queues_without_a_copy():
    block = Block(DATA)
    assert isinstance(block, ReadOnlyFileBasedBuffer)
    assert len(block) == len(DATA) and block
    view = block.get(100)
    assert isinstance(view, memoryview) and view.obj is DATA  # the block's own bytes


def test_partial_sends_resume_where_the_socket_stopped():
    block = Block(DATA)
    assert drain(block, [1, 4095, 7000, 10**6]) == DATA
    assert len(block) == 0 and not block


def test_the_tasks_slice_to_the_content_length_keeps_the_block_or_cuts_it():
    block = Block(DATA)
    assert block[:len(DATA)] is block and block[:len(DATA) + 10] is block
    cut = block[:100]
    assert cut is not block and len(cut) == 100 and bytes(cut.get()) == DATA[:100]
    block.skip(50)
    assert bytes(block[:10].get()) == DATA[50:60]


def test_skipping_past_the_end_is_refused():
    block = Block(DATA)
    with pytest.raises(ValueError):
        block.skip(len(DATA) + 1)


def test_close_empties_it():
    block = Block(DATA)
    block.close()
    assert len(block) == 0


def test_another_server_gets_the_body_as_it_is():
    body = [b"a", b"b"]
    assert sendable(body, {"wsgi.file_wrapper": object}) is body
    assert sendable(body, {}) is body


def test_under_waitress_the_body_keeps_its_close():
    closed = []

    class Body:
        def __iter__(self):
            yield DATA

        def close(self):
            closed.append(1)

    out = sendable(Body(), {"wsgi.file_wrapper": ReadOnlyFileBasedBuffer})
    (block,) = list(out)
    assert isinstance(block, Block) and bytes(block.get()) == DATA
    out.close()
    assert closed == [1]
