"""API tokens for tests that call staff endpoints (``/healthz`` details, ``/api/v1/aips``…)."""

from __future__ import annotations

from access_api.services.base import UserRole
from preservation.accounts import create_user, issue_token
from preservation.catalog.db import Catalog

PASSWORD = "Mat-khau-rat-dai-2026!"


def token_for(catalog: Catalog, username: str, role: UserRole) -> str:
    """A new account of ``role`` and a token of it."""
    with catalog.session() as s:
        user = create_user(s, username, PASSWORD, [role.value])
        return issue_token(s, user, "test").token


def bearer(catalog: Catalog, username: str, role: UserRole) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(catalog, username, role)}"}


def officer(catalog: Catalog, username: str = "bao-quan") -> dict[str, str]:
    """The headers of a preservation officer's request."""
    return bearer(catalog, username, UserRole.PRESERVATION_OFFICER)
