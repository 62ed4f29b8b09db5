"""A process that makes a metadata version and dies (or hangs) part-way, as a web or CLI
process killed by SIGKILL, the OOM killer or a power cut would: no ``except``, no ``finally``,
nothing released. Run as ``python -m tests.support.killed_version SETTINGS OBJID EAD STEP``
(SETTINGS a pickled ``Settings``): STEP ``reserved`` dies right after the reservation,
``half-written`` after writing half the version's objects in every location, ``hold`` writes
half and then waits (a live change) until its stdin closes."""

from __future__ import annotations

import os
import pickle
import signal
import sys
from pathlib import Path

from access_api.services import versions
from access_api.services.base import Identity, ServiceContext
from preservation.packaging.aip import new_version


def main(settings_file: str, objid: str, ead_file: str, step: str) -> None:
    settings = pickle.loads(Path(settings_file).read_bytes())
    real_reserve, real_replicate = new_version._reserve, versions.replicate

    def die() -> None:
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    def reserve(*args, **kwargs):
        package_id = real_reserve(*args, **kwargs)
        print(f"reserved {package_id}", flush=True)
        if step == "reserved":
            die()
        return package_id

    def replicate(objects, storages, **kwargs):
        real_replicate(objects[:len(objects) // 2], storages, **kwargs)
        print("half-written", flush=True)
        if step == "hold":
            sys.stdin.read()
        die()

    new_version._reserve = reserve
    versions.replicate = replicate
    versions.update_metadata(ServiceContext(settings), Identity.system("killed"), objid,
                             package_ead=Path(ead_file).read_bytes(), document_eads={},
                             reason="Sửa tiêu đề (tiến trình bị giết)")


if __name__ == "__main__":
    main(*sys.argv[1:5])
