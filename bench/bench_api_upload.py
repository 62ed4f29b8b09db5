"""A bag of N MiB uploaded through ``POST /api/v1/submissions`` of a running ``khoso serve``
until its job is accepted, against ``khoso ingest --wait`` of the same bag in the same run.

    tests/harness/services.sh start /tmp/svc-bench && set -a && . /tmp/svc-bench/env && set +a
    .venv/bin/python bench/bench_api_upload.py               # 1024 MiB (the issue's figure)
    .venv/bin/python bench/bench_api_upload.py --mib 256     # shorter
    .venv/bin/python bench/bench_api_upload.py --mib 256 --tus 64 --api-only  # tus PATCHes

The bag (one document: a PDF of N MiB in 64 MiB streams, as ``bench_ingest.py big``, or with
``--kind mp4`` a recording) is sent as a plain tar. Each side gets a fresh instance (SQLite catalog, two filesystem replicas, the
harness's clamd; a hồ sơ is archived once per catalog). clamd caches a clean verdict by
content, so the PDF is scanned once before either side (``--cold`` skips it: the CLI side,
run first, would then pay clamd's parsing alone). The CLI side is the wall time of
``khoso ingest --wait`` (process start included); the API side runs from the first byte sent
to the job read as accepted by polling ``GET /api/v1/jobs/ID`` every 0.5 s, with the server
and its worker already started and warm (a throw-away submission first: a running archive's
worker built its services with its first job, while every CLI run builds them anew).
With ``--tus N`` the API side uploads through the resumable
``/api/v1/uploads`` (one POST, then PATCHes of N MiB; the last one submits) instead of one POST;
``--api-only`` leaves the CLI side out (the upload's figure alone). Each side's phases follow its line: the upload, the job's creation and wait in the queue
(catalog timestamps), the ingest's steps of 0.1 s or more (the worker's log, the CLI's
stderr) and when the poll saw the outcome. Goal: API ≤ 1.2 × CLI.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

MiB = 1 << 20
STEP = re.compile(r"job (\S+) step (\w+): \w+ in ([\d.]+) s")
# khoso's CLI logs warnings only: its ingest's step lines (as a worker logs them) on stderr
CLI_LOGGING_STEPS = ("import logging, sys; log = logging.getLogger('ingest.pipeline'); "
                     "log.addHandler(logging.StreamHandler()); log.setLevel(logging.INFO); "
                     "log.propagate = False; "
                     "sys.argv[0] = 'khoso'; from access_api.cli import main; main()")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tar_of(bag: Path, dest: Path) -> Path:
    with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tf:
        tf.add(bag, arcname="bag")
    return dest


def environment(instance: dict[str, str], **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KHOSO_")
           or k.startswith("KHOSO_TEST_")}
    return {**env, **instance, "KHOSO_CLAMD_MANAGED": "false",
            "PYTHONPATH": str(ROOT), **more}


def job_times(instance: dict[str, str]) -> tuple[float, float, float]:
    """The (created, started, finished) wall-clock instants of the instance's one real ingest
    job (the newest), read from its catalog: where the time went on each side."""
    from preservation.catalog.db import Catalog
    from preservation.catalog.models import Job

    catalog = Catalog(instance["KHOSO_DATABASE_URL"])
    with catalog.session() as s:
        job = s.query(Job).order_by(Job.created_at.desc()).first()
        assert job is not None and job.started_at and job.finished_at
        times = tuple(when.replace(tzinfo=when.tzinfo or dt.UTC).timestamp()
                      for when in (job.created_at, job.started_at, job.finished_at))
    catalog.dispose()
    return times  # type: ignore[return-value]


def phases(origin: float, instance: dict[str, str], log: str) -> str:
    """Where the time went: seconds from ``origin`` (wall clock) to the job's creation, its
    start by a worker and its end, and the ingest's steps of 0.1 s or more (from ``log``)."""
    created, started, finished = job_times(instance)
    times = [(step, float(took)) for _, step, took in STEP.findall(log)]
    return (f"job created at {created - origin:.1f}, queued {started - created:.1f}, "
            f"ingest {finished - started:.1f} ("
            + ", ".join(f"{step} {took:.1f}" for step, took in times if took >= 0.1)
            + f"), ended at {finished - origin:.1f}")


def cli_ingest(instance: dict[str, str], bag: Path) -> tuple[float, str]:
    """(seconds, phases) of ``khoso ingest --wait``."""
    origin = time.time()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CLI_LOGGING_STEPS, "ingest", "--wait",
                           "--json", str(bag)], cwd=ROOT, env=environment(instance),
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"CLI ingest failed ({done.returncode}):\n{done.stdout[-2000:]}"
                         f"\n{done.stderr[-2000:]}")
    return seconds, phases(origin, instance, done.stderr)


def admin_token(instance: dict[str, str]) -> str:
    from preservation.accounts import create_user, issue_token
    from preservation.catalog.db import Catalog

    catalog = Catalog(instance["KHOSO_DATABASE_URL"])
    with catalog.session() as s:
        user = create_user(s, "bench-admin", "mật-khẩu-dài-đủ-12", ["admin"])
        token = issue_token(s, user, "bench").token
    catalog.dispose()
    return token


def submit(port: int, auth: dict[str, str], body: bytes, content_type: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/api/v1/submissions", body=body,
                 headers={**auth, "Content-Type": content_type})
    response = conn.getresponse()
    answer = json.loads(response.read())
    if response.status != 202:
        raise SystemExit(f"submission refused: {response.status} {answer}")
    return str(answer["job"])


def wait(port: int, auth: dict[str, str], job: str) -> dict:
    """Poll the job every 0.5 s until it has an outcome."""
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", f"/api/v1/jobs/{job}", headers=auth)
        state: dict = json.loads(conn.getresponse().read())
        conn.close()
        if state["state"] in ("accepted", "rejected", "failed"):
            return state
        time.sleep(0.5)


def tus_upload(port: int, auth: dict[str, str], bag: Path, chunk: int) -> str:
    """The bag through tus: create, PATCH ``chunk`` bytes at a time; the job of the last."""
    size = bag.stat().st_size
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    kind = base64.b64encode(b"application/x-tar").decode()
    conn.request("POST", "/api/v1/uploads", headers={
        **auth, "Tus-Resumable": "1.0.0", "Upload-Length": str(size),
        "Upload-Metadata": f"filetype {kind}", "Content-Length": "0"})
    response = conn.getresponse()
    answer = json.loads(response.read())
    if response.status != 201:
        raise SystemExit(f"upload refused: {response.status} {answer}")
    where = response.getheader("Location")
    offset, job = 0, None
    with open(bag, "rb") as body:
        while offset < size:
            n = min(chunk, size - offset)
            conn.request("PATCH", where, body=_Part(body, n), headers={
                **auth, "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream", "Content-Length": str(n)})
            response = conn.getresponse()
            text = response.read()
            if response.status != 204:
                raise SystemExit(f"PATCH refused: {response.status} {text[:500]!r}")
            offset = int(response.getheader("Upload-Offset") or 0)
            job = response.getheader("Khoso-Job") or job
    if not job:
        raise SystemExit("the last PATCH named no job")
    return job


class _Part:
    """``n`` bytes of an open file, read in 1 MiB blocks (http.client sends a file-like)."""

    def __init__(self, f: Any, n: int) -> None:
        self.f, self.left = f, n

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left, MiB)
        data: bytes = self.f.read(size)
        self.left -= len(data)
        return data


def api_ingest(instance: dict[str, str], bag: Path, folder: Path, tus: int = 0,
               ) -> tuple[float, float, str]:
    """(seconds until accepted, of which the upload, phases) through a running khoso serve."""
    port = free_port()
    env = environment(instance, KHOSO_PORT=str(port),
                      KHOSO_BROKER_URL=f"sqla+sqlite:///{folder / 'broker.sqlite'}")
    token = admin_token(instance)
    log = folder / "serve.log"
    serve = subprocess.Popen([sys.executable, "-m", "access_api.cli", "serve"], cwd=ROOT,
                             env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    auth = {"Authorization": f"Bearer {token}"}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("khoso serve did not start: "
                                     + log.read_text()[-2000:]) from None
                time.sleep(0.2)
        # A running archive's worker has built its services (clamd client, format identifier,
        # keys) with its first job: a throw-away submission (rejected at once) does that here.
        warm = submit(port, auth, b"not a bag", "application/zip")
        wait(port, auth, warm)
        size = bag.stat().st_size
        origin = time.time()
        started = time.perf_counter()
        if tus:
            answer = {"job": tus_upload(port, auth, bag, tus * MiB)}
        else:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
            with open(bag, "rb") as body:
                conn.request("POST", "/api/v1/submissions", body=body, headers={
                    **auth, "Content-Type": "application/x-tar", "Content-Length": str(size)})
                response = conn.getresponse()
                answer = json.loads(response.read())
            if response.status != 202:
                raise SystemExit(f"submission refused: {response.status} {answer}")
        uploaded = time.perf_counter() - started
        state = wait(port, auth, answer["job"])
        seconds = time.perf_counter() - started
        if state["state"] != "accepted":
            raise SystemExit(f"API ingest ended {state['state']}: {state['issues'][:3]}")
        job_log = "\n".join(line for line in log.read_text().splitlines()
                             if answer["job"] in line)
        return seconds, uploaded, (f"upload {uploaded:.1f}, "
                                   + phases(origin, instance, job_log)
                                   + f", seen at {seconds:.1f}")
    finally:
        serve.terminate()
        serve.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=1024, help="size of the bag's PDF (MiB)")
    parser.add_argument("--clamd", default=os.environ.get("KHOSO_TEST_CLAMD"),
                        help="clamd address (default: the harness's KHOSO_TEST_CLAMD)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--kind", choices=("pdf", "mp4"), default="pdf",
                        help="the big file: a PDF in 64 MiB streams (clamd parses it; at 1 GiB "
                             "on a busy machine clamd may stop at MaxScanTime, AV003) or an "
                             "MPEG-4 recording (scanned as raw data)")
    parser.add_argument("--cold", action="store_true",
                        help="do not scan the PDF with clamd first: the CLI side, run first, "
                             "then pays clamd's parsing and the API side finds its cache")
    parser.add_argument("--tus", type=int, default=0, metavar="MIB",
                        help="upload through tus, PATCHes of MIB MiB (default: one POST)")
    parser.add_argument("--api-only", action="store_true", help="leave the CLI side out")
    args = parser.parse_args()
    if not args.clamd:
        raise SystemExit("no clamd: start the harness (tests/harness/services.sh) first")
    from bench_ingest import make_big, make_instance, raw_instream

    folder = Path(tempfile.mkdtemp(prefix="bench-api-upload-"))
    try:
        bag = make_big(folder / "sip", args.mib, 64, args.kind)
        if not args.cold:  # both sides then meet clamd's cache alike (it keys by content)
            for big in (bag / "data").rglob(f"*.{args.kind}"):
                reply = raw_instream(args.clamd, big)
                if not reply.endswith("OK"):
                    print(f"clamd warm-up did not end clean: {reply}")
        archive = tar_of(bag, folder / "sip.tar")
        shutil.rmtree(folder / "sip")
        size = archive.stat().st_size
        print(f"bag: {size / MiB:.0f} MiB tar ({args.mib} MiB {args.kind.upper()})")
        if not args.api_only:
            cli, cli_phases = cli_ingest(make_instance(folder / "cli", args.clamd), archive)
            print(f"CLI  khoso ingest --wait: {cli:7.1f} s  ({size / MiB / cli:6.1f} MiB/s)")
            print(f"     {cli_phases}")
        (folder / "api").mkdir()
        api, upload, api_phases = api_ingest(make_instance(folder / "api", args.clamd), archive,
                                             folder / "api", args.tus)
        how = f"tus {args.tus} MiB PATCHes" if args.tus else "POST"
        print(f"API  {how} + poll: {api:7.1f} s  ({size / MiB / api:6.1f} MiB/s; "
              f"upload {upload:.1f} s, {size / MiB / upload:.0f} MiB/s)")
        print(f"     {api_phases}")
        if args.api_only:
            return
        ratio = api / cli
        print(f"ratio API/CLI: {ratio:.2f} (goal <= 1.20: {'met' if ratio <= 1.2 else 'NOT met'})")
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
