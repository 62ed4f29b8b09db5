"""The block lists' seal key: made once, whole, whoever asks for it first."""

import os
import threading
from types import SimpleNamespace

from access_api.services import blocks


def test_racing_first_uses_all_get_the_same_whole_key(tmp_path):
    ctx = SimpleNamespace(settings=SimpleNamespace(keys_dir=str(tmp_path / "keys")))
    got: list[bytes] = []
    start = threading.Barrier(8)

    def first_use() -> None:
        start.wait()
        got.append(blocks._key(ctx))  # type: ignore[arg-type]

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and len(set(got)) == 1 and len(got[0]) == 32
    assert os.listdir(tmp_path / "keys") == [blocks.KEY_FILE]  # no temporary file left
    assert (os.stat(tmp_path / "keys" / blocks.KEY_FILE).st_mode & 0o777) == 0o600
    assert blocks._key(ctx) == got[0]  # type: ignore[arg-type]
