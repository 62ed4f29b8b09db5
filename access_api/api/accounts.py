"""Tài khoản, đăng nhập và mã truy cập (accounts, login, tokens).

Login opens a browser session (an ``HttpOnly``, ``SameSite=Strict`` cookie; ``Secure`` with
``KHOSO_SESSION_SECURE`` or over HTTPS) and returns the CSRF token its unsafe requests carry in
``X-CSRF-Token``. Agency systems and scripts use API tokens (``Authorization: Bearer``) that an
admin issues. Each view parses, calls one service of ``access_api.services.accounts``, renders.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from apiflask import APIBlueprint, Schema, fields, validators
from flask import Response, after_this_request, request

from access_api.api.auth import SESSION_COOKIE, current_caller
from access_api.api.base import Instant, PageQuery, identity, page_of, paged, requires, services
from access_api.services import accounts
from access_api.services.accounts import TokenView, UserView
from access_api.services.base import UserRole
from preservation.accounts import LIFETIME_PATTERN, USERNAME, TokenState
from preservation.errors import Unauthorised

bp = APIBlueprint("accounts", __name__, url_prefix="/api/v1", tag="auth")

ROLES = [r.value for r in UserRole]
NO_CONTROL = "^[^\\u0000-\\u001f\\u007f]*$"  # documented; the service refuses them (ACC013)


class LoginIn(Schema):
    username = fields.String(required=True, validate=validators.Length(min=1, max=80))
    password = fields.String(required=True, validate=validators.Length(min=1, max=1024))


class SessionOut(Schema):
    username = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    agency = fields.String(required=True, allow_none=True)
    expires_at = Instant(required=True)
    csrf_token = fields.String(required=True)


class UserOut(Schema):
    username = fields.String(required=True)
    full_name = fields.String(required=True, allow_none=True)
    roles = fields.List(fields.String(), required=True)
    agency = fields.String(required=True, allow_none=True)
    active = fields.Boolean(required=True)
    created_at = Instant(required=True)


class MeOut(UserOut):
    auth = fields.String(required=True, validate=validators.OneOf(["token", "session"]))
    expires_at = Instant(required=True, allow_none=True)
    csrf_token = fields.String(required=True, allow_none=True)


class UserIn(Schema):
    """The username's pattern and the password policy are checked by the service, so that a
    refusal names its rule (``ACC009``, ``ACC002``–``ACC005``); the pattern is documented."""

    username = fields.String(required=True, validate=validators.Length(min=1, max=80),
                             metadata={"pattern": f"^{USERNAME.pattern}$"})
    password = fields.String(required=True, validate=validators.Length(min=1, max=1024))
    roles = fields.List(fields.String(validate=validators.OneOf(ROLES)), required=True,
                        validate=validators.Length(min=1, max=len(ROLES)))
    agency = fields.String(load_default=None, allow_none=True,
                           validate=validators.Length(min=1, max=25))
    full_name = fields.String(load_default=None, allow_none=True,
                              validate=validators.Length(max=200),
                              metadata={"pattern": NO_CONTROL})


class PasswordIn(Schema):
    password = fields.String(required=True, validate=validators.Length(min=1, max=1024))


class PasswordChangeIn(Schema):
    current_password = fields.String(required=True, validate=validators.Length(min=1, max=1024))
    new_password = fields.String(required=True, validate=validators.Length(min=1, max=1024))


class TokenIn(Schema):
    label = fields.String(load_default="api", validate=validators.Length(min=1, max=100),
                          metadata={"pattern": NO_CONTROL})
    expires = fields.String(load_default="90d", validate=validators.Length(min=1, max=20),
                            metadata={"description": "12h, 30d, 90d… (at most 365d or 8760h)",
                                      "pattern": LIFETIME_PATTERN})


class TokenOut(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    label = fields.String(required=True)
    prefix = fields.String(required=True)
    state = fields.String(required=True, validate=validators.OneOf(list(TokenState)))
    created_at = Instant(required=True)
    expires_at = Instant(required=True, allow_none=True)
    last_used_at = Instant(required=True, allow_none=True)
    revoked_at = Instant(required=True, allow_none=True)


class NewTokenOut(TokenOut):
    token = fields.String(required=True, metadata={"description": "shown once, stored nowhere"})


UserPage = page_of(UserOut, "UserPage")
TokenPage = page_of(TokenOut, "TokenPage")


def _user(view: UserView) -> dict[str, Any]:
    return {**asdict(view), "roles": list(view.roles)}


def _token(view: TokenView) -> dict[str, Any]:
    return asdict(view)


def _set_cookie(secret: str, max_age: int) -> None:
    secure = services().settings.session_secure or request.is_secure

    @after_this_request
    def set_cookie(response: Response) -> Response:
        response.set_cookie(SESSION_COOKIE, secret, max_age=max_age, path="/", httponly=True,
                            samesite="Strict", secure=secure)
        return response


def _no_store() -> None:
    """A response holding a secret (a token, a CSRF token) is kept by no cache."""

    @after_this_request
    def no_store(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        return response


def _clear_cookie() -> None:
    @after_this_request
    def clear(response: Response) -> Response:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Strict")
        return response


@bp.post("/auth/login")
@bp.input(LoginIn, arg_name="body")
@bp.output(SessionOut)
@bp.doc(summary="Đăng nhập (log in): opens a browser session",
        description="Sets the session cookie and returns the CSRF token that its POST, PUT, "
                    "PATCH and DELETE requests send in `X-CSRF-Token`. Wrong username or "
                    "password: 401 `ACC020` (the same for an unknown account); too many failed "
                    "logins: 429 `ACC021` with `Retry-After`.",
        responses=[400, 401, 429])
def login(body: dict[str, Any]) -> dict[str, Any]:
    done = accounts.login(services(), body["username"], body["password"],
                          request.remote_addr or "-")
    caller = done.caller
    _set_cookie(done.secret, services().settings.session_hours * 3600)
    _no_store()
    return {"username": caller.identity.actor, "roles": sorted(caller.identity.roles),
            "agency": caller.identity.agency, "expires_at": caller.expires_at,
            "csrf_token": caller.csrf_token}


@bp.post("/auth/logout")
@bp.output({}, status_code=204)
@bp.doc(summary="Đăng xuất (log out): closes the session and clears its cookie",
        responses=[401, 403])
def logout() -> str:
    caller = current_caller()
    if caller is not None:
        accounts.logout(services(), caller)
    _clear_cookie()
    return ""


@bp.get("/me")
@requires()
@bp.output(MeOut)
@bp.doc(summary="Tài khoản của tôi (the caller's account)", responses=[401])
def me() -> dict[str, Any]:
    caller = current_caller()
    if caller is None:  # requires() let only a signed-in caller through
        raise Unauthorised("AUTH003")
    mine = accounts.me(services(), caller)
    _no_store()
    return {**_user(mine.user), "auth": mine.method, "expires_at": mine.expires_at,
            "csrf_token": mine.csrf_token}


@bp.get("/me/tokens")
@requires()
@bp.input(PageQuery, location="query", arg_name="query")
@bp.output(TokenPage)
@bp.doc(summary="Mã truy cập của tôi (the caller's own API tokens, no secrets)",
        responses=[401])
def my_tokens(query: dict[str, Any]) -> dict[str, Any]:
    caller = identity()
    items, total = accounts.list_tokens(services(), caller, caller.actor, query["page"],
                                        query["size"])
    return paged([_token(t) for t in items], total, query["page"], query["size"])


@bp.post("/me/password")
@requires()
@bp.input(PasswordChangeIn, arg_name="body")
@bp.output({}, status_code=204)
@bp.doc(summary="Đổi mật khẩu của tôi (change the caller's own password)",
        description="Needs the current password (a wrong one: 403 `ACC019`, counted as a failed "
                    "login, so 429 `ACC021` after too many); the new one follows the policy "
                    "(422 `ACC023`). The caller's other sessions are closed.",
        responses=[400, 401, 403, 429])
def change_password(body: dict[str, Any]) -> str:
    caller = current_caller()
    if caller is None:  # requires() let only a signed-in caller through
        raise Unauthorised("AUTH003")
    accounts.change_password(services(), caller, body["current_password"],
                             body["new_password"], request.remote_addr or "-")
    return ""


@bp.get("/users")
@requires(UserRole.ADMIN)
@bp.input(PageQuery, location="query", arg_name="query")
@bp.output(UserPage)
@bp.doc(summary="Danh sách tài khoản (accounts; admin)", responses=[401, 403])
def list_users(query: dict[str, Any]) -> dict[str, Any]:
    items, total = accounts.list_users(services(), identity(), query["page"], query["size"])
    return paged([_user(u) for u in items], total, query["page"], query["size"])


@bp.post("/users")
@requires(UserRole.ADMIN)
@bp.input(UserIn, arg_name="body")
@bp.output(UserOut, status_code=201)
@bp.doc(summary="Thêm tài khoản (add an account; admin)",
        description="Password policy: 12–1024 characters, at least two kinds among lower-case, "
                    "upper-case, digits and others, not containing the username (`ACC002`–"
                    "`ACC005`). `agency` (an agency's organ id) is required for, and only for, "
                    "`agency_submitter`. A taken username: 409 `AUTH001`.",
        responses=[400, 401, 403, 409])
def add_user(body: dict[str, Any]) -> dict[str, Any]:
    view = accounts.add_user(services(), identity(), body["username"], body["password"],
                             body["roles"], agency=body["agency"], full_name=body["full_name"])
    return _user(view)


@bp.get("/users/<name>")
@requires(UserRole.ADMIN)
@bp.output(UserOut)
@bp.doc(summary="Một tài khoản (one account; admin)", responses=[401, 403, 404])
def get_user(name: str) -> dict[str, Any]:
    return _user(accounts.get_user(services(), identity(), name))


@bp.post("/users/<name>/disable")
@requires(UserRole.ADMIN)
@bp.output(UserOut)
@bp.doc(summary="Khóa tài khoản (disable; its sessions and tokens stop at once; admin)",
        responses=[401, 403, 404, 409])
def disable_user(name: str) -> dict[str, Any]:
    return _user(accounts.set_active(services(), identity(), name, False))


@bp.post("/users/<name>/enable")
@requires(UserRole.ADMIN)
@bp.output(UserOut)
@bp.doc(summary="Mở khóa tài khoản (enable; admin)", responses=[401, 403, 404])
def enable_user(name: str) -> dict[str, Any]:
    return _user(accounts.set_active(services(), identity(), name, True))


@bp.post("/users/<name>/password")
@requires(UserRole.ADMIN)
@bp.input(PasswordIn, arg_name="body")
@bp.output({}, status_code=204)
@bp.doc(summary="Đặt lại mật khẩu (reset an account's password; its sessions close; admin)",
        responses=[400, 401, 403, 404])
def reset_password(name: str, body: dict[str, Any]) -> str:
    accounts.reset_password(services(), identity(), name, body["password"])
    return ""


@bp.post("/users/<name>/tokens")
@requires(UserRole.ADMIN)
@bp.input(TokenIn, arg_name="body")
@bp.output(NewTokenOut, status_code=201)
@bp.doc(summary="Cấp mã truy cập API (issue an API token, shown once; admin)",
        description="`expires`: `12h`, `30d`, `90d` (the default)… at most `365d`; a token "
                    "that never expires is refused (`ACC012`).",
        responses=[400, 401, 403, 404, 409])
def issue_token(name: str, body: dict[str, Any]) -> dict[str, Any]:
    new = accounts.issue_token(services(), identity(), name, expires=body["expires"],
                               label=body["label"])
    _no_store()
    return {**_token(new.view), "token": new.token}


@bp.get("/users/<name>/tokens")
@requires(UserRole.ADMIN)
@bp.input(PageQuery, location="query", arg_name="query")
@bp.output(TokenPage)
@bp.doc(summary="Mã truy cập của một tài khoản (an account's tokens, no secrets; admin)",
        responses=[401, 403, 404])
def list_tokens(name: str, query: dict[str, Any]) -> dict[str, Any]:
    items, total = accounts.list_tokens(services(), identity(), name, query["page"],
                                        query["size"])
    return paged([_token(t) for t in items], total, query["page"], query["size"])


@bp.delete("/tokens/<int:token_id>")
@requires()
@bp.output(TokenOut)
@bp.doc(summary="Thu hồi mã truy cập (revoke a token: an admin, or its owner)",
        responses=[401, 403, 404])
def revoke_token(token_id: int) -> dict[str, Any]:
    return _token(accounts.revoke_token(services(), identity(), token_id))
