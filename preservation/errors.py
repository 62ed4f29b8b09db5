"""Domain exceptions. They carry a stable issue code, never an HTTP status.

``access_api.errors`` is the one place that maps them to HTTP responses.
"""

from __future__ import annotations

from typing import Any

from preservation.issues import Issue, Report


class KhosoError(Exception):
    """Base for errors a person can act on: a stable code and a bilingual message.

    ``transient`` is what a job runner needs to choose between "retry later" (a location,
    clamd or the catalog down: the archive's fault) and "fail the job" (a person must act)."""

    transient: bool = False

    def __init__(self, code: str, path: str = "", **params: Any) -> None:
        self.issue = Issue(code, path, params)
        super().__init__(f"[{code}] {self.issue.message('en')}")

    @property
    def code(self) -> str:
        return self.issue.code

    def message(self, lang: str = "vi") -> str:
        return self.issue.message(lang)


class ValidationFailed(KhosoError):
    """An input failed validation; ``report`` holds every problem, not just the first."""

    def __init__(self, report: Report, code: str = "GEN001") -> None:
        self.report = report
        first = report.errors[0] if report.errors else None
        # raised under one of its own issues' codes: that issue's words need its parameters
        # (VER008 said "v? of ?" without them)
        named = next((i for i in report.issues if i.code == code), None)
        params = {**(named.params if named else {}), "count": len(report.errors),
                  "first": first.code if first else ""}
        super().__init__(code, named.path if named else "", **params)


class NotFound(KhosoError):
    pass


class Conflict(KhosoError):
    pass


class ConfigError(KhosoError):
    """A bad or unknown setting; start-up stops with the variable named."""


class Unauthorised(KhosoError):
    """No identity, or one that is not valid (missing, unknown, expired or revoked token)."""


class Forbidden(KhosoError):
    """A known identity that may not do this."""


class TooManyRequests(KhosoError):
    """The caller must wait (repeated failed logins); ``retry_after`` in seconds."""

    def __init__(self, code: str, path: str = "", *, retry_after: int, **params: Any) -> None:
        self.retry_after = retry_after
        super().__init__(code, path, **params)


class Unavailable(KhosoError):
    """The archive cannot take this now (queue full, a service down): the caller retries
    after ``retry_after`` seconds. Never the caller's fault."""

    transient = True

    def __init__(self, code: str, path: str = "", *, retry_after: int = 30, **params: Any) -> None:
        self.retry_after = retry_after
        super().__init__(code, path, **params)
