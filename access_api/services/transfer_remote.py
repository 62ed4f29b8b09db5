"""The receiving historical archive as a client sees it: another khoso's submission API.

A bag goes to its ``POST /api/v1/submissions`` with the bearer token of an agency_submitter
account there; its job is followed at ``GET /api/v1/jobs/{id}`` and its receipt read at
``GET /api/v1/jobs/{id}/receipt``. Whatever goes wrong is a stable code: unreachable or slow
(TRF010), a 5xx (TRF011), an answer that is not what the API returns or a redirect (TRF012),
the token refused (TRF013), the bag refused (TRF014). Each bag goes with an
``Idempotency-Key``: after an outcome not heard, the receiver is asked for the key before the
bag is sent again (``lookup``), and it never stores one key's bag twice. The token is a secret: it is sent in
the Authorization header only, never followed to another address by a redirect, and never
part of a message, a log line or a repr.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path
from typing import Any, BinaryIO

from preservation.errors import Conflict, Unavailable, ValidationFailed
from preservation.issues import Issue, Report

ANSWER_LIMIT = 4 << 20  # bytes of a JSON answer read at most: a receipt of 10,000 files fits
RETRY_AFTER = 60


def refused(*issues: Issue) -> ValidationFailed:
    """Input refused with every problem, its first one the error's own code and message (a
    count alone would leave a person nothing to act on)."""
    exc = ValidationFailed(Report(list(issues)), issues[0].code)
    exc.issue = issues[0]
    exc.args = (f"[{issues[0].code}] {issues[0].message('en')}",)
    return exc


class NotReached(Unavailable):
    """The receiver could not be reached at all (connection refused, no such host): nothing
    of the request was sent, so nothing can have been stored there."""


@dataclass(frozen=True)
class Lookup:
    """What the receiver said about an idempotency key: ``answered`` False when it has no
    lookup (an older receiver: 404 or 405), else ``job`` is the job its submission with that
    key created, or None when there is none."""

    answered: bool
    job: str | None = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as it is (never followed): the token must not travel to an
    address the operator did not give."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def check_url(url: str) -> str:
    """The base URL without a trailing slash; TRF017 unless http(s) with a host and no
    user name or password in it (a secret must not be stored with the transfer)."""
    shown = url[:200]
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        raise refused(Issue("TRF017", "remote_url", {"url": shown})) from None
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.username
            or parts.password or parts.query or parts.fragment
            or any(c.isspace() or ord(c) < 32 for c in url)):
        raise refused(Issue("TRF017", "remote_url", {"url": shown}))
    return url.rstrip("/")


@dataclass(frozen=True)
class RemoteArchive:
    """One receiving archive: its base URL and the token (kept out of ``repr``)."""

    url: str
    token: str = field(repr=False)
    organ_id: str  # the agency the token must be bound to there (named in TRF013)
    timeout: float = 30

    def _request(self, method: str, path: str, body: BinaryIO | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(
            self.url + path, data=body, method=method,
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json",
                     **(headers or {})})
        try:
            with _OPENER.open(request, timeout=self.timeout) as resp:
                return resp.status, resp.read(ANSWER_LIMIT + 1)
        except urllib.error.HTTPError as err:
            try:
                data = err.read(ANSWER_LIMIT + 1)
            except (OSError, HTTPException):
                data = b""
            return err.code, data
        except (urllib.error.URLError, OSError, HTTPException, TimeoutError) as exc:
            reason = getattr(exc, "reason", None) or exc
            # refused or no such host: not one byte left; any other failure (a timeout, a
            # reset) may come after the receiver took the whole request
            kind = NotReached if isinstance(reason, (ConnectionRefusedError, socket.gaierror)) \
                else Unavailable
            raise kind("TRF010", url=self.url, reason=_said(reason),
                       retry_after=RETRY_AFTER) from None

    def _json(self, status: int, data: bytes, *, expect: tuple[int, ...],
              code: str = "") -> dict[str, Any]:
        if 300 <= status < 400:
            raise Unavailable("TRF012", url=self.url, reason=f"HTTP {status} redirect refused",
                              retry_after=RETRY_AFTER)
        if status >= 500:
            raise Unavailable("TRF011", url=self.url, status=status, retry_after=RETRY_AFTER)
        if status in (401, 403):
            raise refused(Issue("TRF013", "token", {
                "url": self.url, "status": status, "organ": self.organ_id}))
        if status not in expect:
            raise Conflict("TRF014", url=self.url, record=code or "-", status=status,
                           detail=_problem(data))
        if len(data) > ANSWER_LIMIT:
            raise Unavailable("TRF012", url=self.url, reason="answer too large",
                              retry_after=RETRY_AFTER)
        try:
            value = json.loads(data)
        except ValueError:
            raise Unavailable("TRF012", url=self.url, reason="not JSON",
                              retry_after=RETRY_AFTER) from None
        if not isinstance(value, dict):
            raise Unavailable("TRF012", url=self.url, reason="not a JSON object",
                              retry_after=RETRY_AFTER)
        return value

    def submit(self, bag_zip: Path, code: str, key: str | None = None) -> str:
        """Send one zipped bag; its job id on the receiving side. With ``key`` (its
        ``Idempotency-Key``), a receiver that already took a bag with that key answers that
        bag's job and stores nothing again."""
        size = bag_zip.stat().st_size
        keyed = {"Idempotency-Key": key} if key else {}
        with bag_zip.open("rb") as body:
            status, data = self._request("POST", "/api/v1/submissions", body, {
                "Content-Type": "application/zip", "Content-Length": str(size), **keyed})
        answer = self._json(status, data, expect=(202,), code=code)
        job = answer.get("job")
        if not isinstance(job, str) or not 0 < len(job) <= 36:
            raise Unavailable("TRF012", url=self.url, reason="no job id in the answer",
                              retry_after=RETRY_AFTER)
        return job

    def lookup(self, key: str) -> Lookup:
        """Whether a bag sent with ``key`` reached the receiver (``GET
        /api/v1/submissions/keys/{key}``): asked before sending again after an outcome that
        was not heard (a timeout, a reset, a 5xx)."""
        status, data = self._request(
            "GET", f"/api/v1/submissions/keys/{urllib.parse.quote(key, safe='')}")
        if status in (404, 405):
            return Lookup(False)
        answer = self._json(status, data, expect=(200,))
        job = answer.get("job")
        if answer.get("found") is True and isinstance(job, str) and 0 < len(job) <= 36:
            return Lookup(True, job)
        if answer.get("found") is False:
            return Lookup(True)
        raise Unavailable("TRF012", url=self.url, reason="no answer about the key",
                          retry_after=RETRY_AFTER)

    def job(self, job_id: str) -> dict[str, Any]:
        status, data = self._request("GET", f"/api/v1/jobs/{urllib.parse.quote(job_id)}")
        answer = self._json(status, data, expect=(200,))
        if not isinstance(answer.get("state"), str):
            raise Unavailable("TRF012", url=self.url, reason="no state in the job",
                              retry_after=RETRY_AFTER)
        return answer

    def receipt(self, job_id: str) -> dict[str, Any]:
        status, data = self._request("GET",
                                     f"/api/v1/jobs/{urllib.parse.quote(job_id)}/receipt")
        return self._json(status, data, expect=(200,))


def _said(reason: object) -> str:
    text = str(reason) or type(reason).__name__
    return text[:200]


def _problem(data: bytes) -> str:
    """The code and message of a problem document the receiver answered, if it is one."""
    try:
        value = json.loads(data[:ANSWER_LIMIT])
    except ValueError:
        return "-"
    if isinstance(value, dict):
        return f"{value.get('code', '-')}: {str(value.get('message_en', ''))[:300]}"
    return "-"
