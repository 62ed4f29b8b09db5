"""``BlockHasher``: the whole digest and each block's digest from one pass, whatever the sizes
of the pieces it is fed."""

from __future__ import annotations

import hashlib
import os

import pytest

from preservation.blockhash import BlockHasher

BLOCK = 1000


@pytest.mark.parametrize("size", [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 5 * BLOCK + 123])
@pytest.mark.parametrize("piece", [1, 7, BLOCK, 3 * BLOCK + 5])
def test_blocks_and_whole_match_hashing_each_block(size, piece):
    data = os.urandom(size)
    hasher = BlockHasher(BLOCK)
    for i in range(0, size, piece):
        hasher.update(memoryview(data)[i:i + piece])
    assert hasher.whole.hexdigest() == hashlib.sha256(data).hexdigest()
    assert hasher.size == size
    assert hasher.digests() == b"".join(hashlib.sha256(data[i:i + BLOCK]).digest()
                                        for i in range(0, size, BLOCK))
