"""Format identification in the helper process gives what in-process identification gives."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from ingest.adapters.formats import make_identifier
from ingest.adapters.identify_process import IsolatedIdentifier
from tests.support.pki import minimal_pdf
from tests.support.sips import png


def test_helper_agrees_with_in_process_and_survives_its_own_death(tmp_path):
    files = {"a.pdf": minimal_pdf("x"), "b.png": png(), "c.txt": b"plain text\n", "empty": b""}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    paths = [tmp_path / n for n in files] + [tmp_path / "missing.pdf"]
    ident = IsolatedIdentifier("siegfried")
    try:
        future = ident.submit(paths)
        remote = ident.result(future, paths)
        local = make_identifier("siegfried").identify_many(paths)
        assert [(r.path, r.puid, r.error) for r in remote] == [(r.path, r.puid, r.error) for r in local]
        assert remote[1].puid == "fmt/11" and remote[3].empty
        assert ident.peak_rss() > 0
        for pid in list(ident._pool._processes):  # the helper dies (OOM killer, operator...)
            os.kill(pid, signal.SIGKILL)
        again = ident.identify_many(paths)
        assert [r.puid for r in again] == [r.puid for r in local]
    finally:
        ident.close()


def _wait_gone(helper: int) -> None:
    import time

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{helper}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return
        if state in ("Z", "X"):  # exited; reaping is init's business
            return
        time.sleep(0.2)
    os.kill(helper, 9)
    raise AssertionError(f"helper {helper} outlived its parent")


def _helper_of(tmp_path, body: str) -> int:
    import subprocess
    import sys

    script = ("from ingest.adapters.identify_process import IsolatedIdentifier as I; import os\n"
              "if __name__ == '__main__':\n" + body +
              "    print(list(i._pool._processes)[0], flush=True)\n"
              "    os._exit(0)\n")
    (tmp_path / "p.py").write_text(script)
    out = subprocess.run([sys.executable, str(tmp_path / "p.py")], capture_output=True, text=True,
                         timeout=60, cwd=os.getcwd())
    return int(out.stdout.split()[0])


def test_the_helper_exits_when_its_parent_dies(tmp_path):
    _wait_gone(_helper_of(tmp_path, "    i = I(); i.identify_many([__file__])\n"))


def test_the_helper_exits_when_its_parent_died_before_it_started(tmp_path):
    """The parent gone before the helper's initializer ran: the helper is init's child from
    its first instant, and must still see that its parent is gone."""
    _wait_gone(_helper_of(tmp_path, "    i = I(); i.submit([__file__])\n"))
