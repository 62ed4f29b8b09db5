"""Who is calling: an API token (``Authorization: Bearer …``, any case) or, for the web UI,
a login session. Anonymous callers get an identity with no role."""

from __future__ import annotations

from flask import current_app, g, request

from access_api.services.base import Identity, ServiceContext, UserRole
from preservation.accounts import user_for_token
from preservation.catalog.models import Agency
from preservation.errors import Unauthorised

ANONYMOUS = Identity("anonymous", frozenset())


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer`` header; the scheme is case-insensitive
    (RFC 7235 §2.1). None when there is no such header."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if not header or scheme.lower() != "bearer":
        return None
    return token.strip()


def resolve_identity(ctx: ServiceContext) -> Identity:
    """The caller; ``AUTH003`` (401) for a token that is given but not valid."""
    header = request.headers.get("Authorization")
    token = bearer_token()
    if header is not None and not token:
        raise Unauthorised("AUTH003")
    if token is None:
        return ANONYMOUS
    with ctx.catalog.session() as session:
        user = user_for_token(session, token)
        if user is None:
            raise Unauthorised("AUTH003")
        roles = frozenset(UserRole(r.name) for r in user.roles if r.name in set(UserRole))
        agency = session.get(Agency, user.agency_id) if user.agency_id else None
        return Identity(user.username, roles, agency.organ_id if agency else None)


def current_identity() -> Identity:
    """The identity of this request, resolved once."""
    if "identity" not in g:
        g.identity = resolve_identity(current_app.extensions["khoso"]["services"])
    identity: Identity = g.identity
    return identity
