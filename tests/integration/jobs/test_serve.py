"""``khoso serve`` keeps its job worker and the managed clamd running (real processes).

A worker killed with SIGKILL is restarted and its orphaned scheduler child is stopped; a
managed clamd killed the same way is started again; on SIGTERM serve stops all of them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ingest import local_clamd
from ingest.jobs import submit
from preservation.jobs import make_celery
from tests.support.sips import make_sip
from tests.support.workers import ROOT, job_status, wait_for, worker_env


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def workers(pid: int) -> list[int]:
    """The ``khoso worker`` children of ``pid`` (not, say, a clamd being started)."""
    found = []
    for child in children(pid):
        try:
            if b"worker" in Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0"):
                found.append(child)
        except OSError:
            pass
    return [p for p in found if alive(p)]


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_serve_restarts_a_killed_worker_and_clamd_and_stops_the_orphaned_scheduler(khoso,
                                                                                tmp_path):
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    clamd = local_clamd.LocalClamd(khoso.settings.data_dir / "clamav")
    env = {**worker_env(khoso, broker), "KHOSO_CLAMD_MANAGED": "true",
           "KHOSO_CLAMD": clamd.address}
    settings = khoso.settings.__class__(**{**khoso.settings.__dict__, "broker_url": broker,
                                           "clamd": clamd.address})
    log = tmp_path / "serve.log"
    try:
        serve = subprocess.Popen([sys.executable, "-m", "access_api.cli", "serve", "--port",
                                  str(free_port())], cwd=ROOT, env=env, stdout=log.open("ab"),
                                 stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: workers(serve.pid), 60, "the worker")
            worker = workers(serve.pid)[0]
            wait_for(lambda: children(worker), 60, "the worker's scheduler child")
            scheduler = children(worker)[0]
            first_clamd = local_clamd.running_pid(clamd)
            assert first_clamd

            os.kill(worker, signal.SIGKILL)
            wait_for(lambda: [p for p in workers(serve.pid) if p != worker], 30, "a new worker")
            wait_for(lambda: not alive(scheduler), 10, "the orphaned scheduler to stop")

            os.kill(first_clamd, signal.SIGKILL)
            wait_for(lambda: local_clamd.running_pid(clamd) not in (None, first_clamd), 60,
                     "clamd to be started again")

            # the restarted worker, with the restarted clamd, does the work
            job_id = submit(khoso.catalog, make_celery(settings), make_sip(tmp_path / "sip"),
                            "tester")
            wait_for(lambda: job_status(khoso.catalog, job_id) in ("succeeded", "failed"), 90,
                     "a job on the restarted worker")
            assert job_status(khoso.catalog, job_id) == "succeeded", \
                log.read_text(errors="replace")[-3000:]
            running = workers(serve.pid)
            clamd_pid = local_clamd.running_pid(clamd)
        finally:
            serve.terminate()
            serve.wait(60)
        wait_for(lambda: not any(alive(p) for p in running), 30, "the worker to stop")
        wait_for(lambda: not alive(clamd_pid), 30, "clamd to stop")
    finally:
        local_clamd.stop(clamd)  # whatever a failure above left running


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_scheduler_of_a_killed_worker_stops_without_a_supervisor(khoso, tmp_path):
    """``khoso worker --beat`` run on its own: SIGKILL leaves no scheduler running on."""
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    log = tmp_path / "worker.log"
    worker = subprocess.Popen([sys.executable, "-m", "access_api.cli", "worker", "--beat"],
                              cwd=ROOT, env=worker_env(khoso, broker), stdout=log.open("ab"),
                              stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: [p for p in children(worker.pid) if alive(p)], 60, "the scheduler")
        scheduler = children(worker.pid)[0]
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        wait_for(lambda: not alive(scheduler), 15, "the orphaned scheduler to stop")
    finally:
        if worker.poll() is None:
            worker.kill()
