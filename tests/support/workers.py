"""Worker and server subprocesses started as an operator would (``khoso worker``), the
environment they get from a test's khoso, and waiting for what they do."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from preservation.catalog.models import Job

ROOT = Path(__file__).parents[2]  # the repository


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "access_api.cli", "worker"], cwd=ROOT,
                            env={**os.environ, **env}, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT)


def job_status(catalog, job_id: str) -> str:
    with catalog.session() as s:
        return s.get(Job, job_id).status


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def worker_env(khoso, broker: str) -> dict[str, str]:
    s = khoso.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("KHOSO_") or
           k.startswith("KHOSO_TEST_")}
    env.update({
        "KHOSO_DATA_DIR": str(s.data_dir), "KHOSO_DATABASE_URL": s.database_url,
        "KHOSO_CLAMD": s.clamd, "KHOSO_ARCHIVE_CODE": s.archive_code,
        "KHOSO_STORAGE_LOCATIONS": ",".join(f"{loc.name}={loc.url}"
                                            for loc in s.storage_locations),
        "KHOSO_BROKER_URL": broker, "KHOSO_JOB_VISIBILITY_TIMEOUT": "4",
        "KHOSO_CLAMD_MANAGED": "false"})
    return env
