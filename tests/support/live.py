"""A running ``khoso serve`` (web service + its job worker) on a test's khoso instance, reached
over real HTTP, as agency systems and readers reach it."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

from tests.support.workers import ROOT, wait_for, worker_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Live:
    url: str
    log: Path

    def call(self, method: str, path: str, *, token: str | None = None,
             body: bytes | None = None, headers: dict[str, str] | None = None,
             json_body: Any = None) -> tuple[int, Message, bytes]:
        """One request; the status, headers (any case) and body whatever the status."""
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(request, timeout=60) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()

    def json(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        status, _, body = self.call(method, path, **kwargs)
        return status, json.loads(body) if body else None


def _up(url: str) -> bool:
    try:
        urllib.request.urlopen(url + "/api/v1/openapi.json", timeout=2).read()
        return True
    except (OSError, urllib.error.URLError):
        return False


@contextlib.contextmanager
def live_khoso(khoso, tmp_path: Path, *, worker: bool = True,
               env: dict[str, str] | None = None) -> Iterator[Live]:
    """``khoso serve`` on a free loopback port with the harness's clamd (not managed) and a
    SQLite broker in ``tmp_path``; stopped (worker included) when the block ends."""
    port = free_port()
    log = tmp_path / "serve.log"
    full_env = {**worker_env(khoso, f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"),
                **(env or {})}
    args = [sys.executable, "-m", "access_api.cli", "serve", "--host", "127.0.0.1", "--port",
            str(port)] + ([] if worker else ["--no-worker"])
    serve = subprocess.Popen(args, cwd=ROOT, env=full_env, stdout=log.open("ab"),
                             stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for(lambda: _up(url) or serve.poll() is not None, 60, "khoso serve")
        except AssertionError:
            raise AssertionError(log.read_text(errors="replace")[-3000:]) from None
        assert serve.poll() is None, log.read_text(errors="replace")[-3000:]
        yield Live(url, log)
    finally:
        serve.terminate()
        try:
            serve.wait(60)
        except subprocess.TimeoutExpired:
            serve.kill()
