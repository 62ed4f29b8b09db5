"""Who is calling: an API token (``Authorization: Bearer …``, any case) or, for the web UI,
a login session cookie. Anonymous callers get an identity with no role.

A session cookie is sent by the browser on its own, so an unsafe request (POST, PUT, PATCH,
DELETE) it authenticates must also carry the session's ``X-CSRF-Token`` (another site can
neither read the cookie nor compute the token): without it, 403 ``ACC022``. A bearer token is
never sent by a browser on its own and needs no CSRF token. The cookie is also
``SameSite=Strict`` and ``HttpOnly``.
"""

from __future__ import annotations

import hmac

from flask import current_app, g, request

from access_api.services import accounts
from access_api.services.accounts import Caller
from access_api.services.base import Identity, ServiceContext
from preservation.errors import Forbidden, Unauthorised

ANONYMOUS = Identity("anonymous", frozenset())
SESSION_COOKIE = "khoso_session"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer`` header; the scheme is case-insensitive and
    may be followed by more than one space (RFC 7235 §2.1: ``1*SP``). None when there is no
    such header; an empty string when the token is missing or is not one token68."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if not header or scheme.lower() != "bearer":
        return None
    token = token.strip(" ")
    return "" if not token or any(ch.isspace() for ch in token) else token


def resolve_caller(ctx: ServiceContext) -> Caller | None:
    """The caller, None when anonymous; ``AUTH003`` (401) for a token that is given but not
    valid, ``ACC022`` (403) for an unsafe request of a session without its CSRF token. A
    session cookie that is expired or unknown counts as no cookie."""
    if request.headers.get("Authorization") is not None:
        token = bearer_token()
        caller = accounts.authenticate_token(ctx, token) if token else None
        if caller is None:
            raise Unauthorised("AUTH003")
        return caller
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    caller = accounts.authenticate_session(ctx, secret)
    if caller is None:
        return None
    if request.method in UNSAFE:
        sent = request.headers.get(CSRF_HEADER, "").encode("utf-8", "surrogatepass")
        if not hmac.compare_digest(sent, (caller.csrf_token or "").encode()):
            raise Forbidden("ACC022")
    return caller


def resolve_identity(ctx: ServiceContext) -> Identity:
    caller = resolve_caller(ctx)
    return caller.identity if caller is not None else ANONYMOUS


def current_caller() -> Caller | None:
    """The caller of this request, resolved once (None: anonymous)."""
    if "caller" not in g:
        g.caller = resolve_caller(current_app.extensions["khoso"]["services"])
    caller: Caller | None = g.caller
    return caller


def current_identity() -> Identity:
    """The identity of this request, resolved once."""
    caller = current_caller()
    return caller.identity if caller is not None else ANONYMOUS
