"""What every blueprint shares: the caller, the services, role checks, paging, instants."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any

import marshmallow as ma
from apiflask import Schema, fields, validators
from apiflask.schema_adapters.marshmallow import parser
from flask import current_app

from access_api.api.auth import current_identity
from access_api.services.base import Identity, ServiceContext, UserRole
from preservation.errors import Forbidden, Unauthorised

BEARER = "bearerAuth"

# A query parameter an endpoint does not know is refused (422 API001, one API008 naming it),
# as an unknown JSON field is: a misspelt ``pgae=2`` or ``mdoe=01`` must not silently return
# the first page or every mode. webargs excludes them by default; APIFlask has one parser.
parser.DEFAULT_UNKNOWN_BY_LOCATION = {**parser.DEFAULT_UNKNOWN_BY_LOCATION,
                                      "query": ma.RAISE, "querystring": ma.RAISE}
STAFF = (UserRole.ARCHIVIST, UserRole.PRESERVATION_OFFICER)


def services() -> ServiceContext:
    ctx: ServiceContext = current_app.extensions["khoso"]["services"]
    return ctx


def requires(*roles: UserRole) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only callers holding one of ``roles`` (an admin always may): 401 ``AUTH003`` for an
    anonymous caller, 403 ``AUTH004`` for one without the role. Without roles: any signed-in
    caller. Put it below the route, input and output decorators."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            identity = current_identity()
            if not identity.roles:
                raise Unauthorised("AUTH003")
            if roles and not identity.has(UserRole.ADMIN, *roles):
                raise Forbidden("AUTH004")
            return view(*args, **kwargs)

        spec = getattr(wrapper, "_spec", None)
        wrapper._spec = {**(spec or {}), "security": BEARER}  # type: ignore[attr-defined]
        return wrapper

    return decorate


def identity() -> Identity:
    """The caller, anonymous included (endpoints readers may call without an account)."""
    return current_identity()


def instant(value: dt.datetime | None) -> str | None:
    """ISO 8601 with its offset; the catalog keeps UTC (SQLite returns it without a zone)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


class Instant(fields.Field):
    """A date and time in ISO 8601 with its offset (naive catalog values are UTC)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if isinstance(value, str) or value is None:
            return value
        return instant(value)


MAX_PAGE_SIZE = 1000


class PageQuery(Schema):
    """``page`` (from 1) and ``size`` (1–1000) of every list endpoint."""

    page = fields.Integer(load_default=1, validate=validators.Range(min=1, max=10_000_000))
    size = fields.Integer(load_default=50, validate=validators.Range(min=1, max=MAX_PAGE_SIZE))


class PageOut(Schema):
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    size = fields.Integer(required=True)


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """The output schema of a list: ``{"total", "page", "size", "items": [item…]}``."""
    return type(name, (PageOut,), {"items": fields.List(fields.Nested(item), required=True)})


def paged(items: Sequence[Any], total: int, page: int, size: int) -> dict[str, Any]:
    return {"total": total, "page": page, "size": size, "items": list(items)}
