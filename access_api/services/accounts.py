"""Accounts, roles, API tokens and login sessions, as the CLI and the HTTP API manage them.

Every change (account, enable/disable, token issued or revoked) is one unit of work with its
audit-log entry, copied next to the AIPs after the commit. Managing accounts is an admin's
work; a token's owner may revoke it too. Logins are rate-limited in the catalog itself, so
every WSGI thread and process counts the same failures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from access_api.services.base import Identity, ServiceContext, UserRole
from access_api.services.uow import MirrorAuditLog, UnitOfWork
from preservation import accounts as core
from preservation.catalog import audit
from preservation.catalog.models import Agency, ApiToken, User
from preservation.errors import (
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorised,
    ValidationFailed,
)
from preservation.issues import Issue, Noun, Report

MAX_INT = 2**31 - 1  # ids are 32-bit in the catalog: a larger one names nothing
AuthMethod = Literal["token", "session"]


@dataclass(frozen=True)
class UserView:
    username: str
    full_name: str | None
    roles: tuple[str, ...]
    agency: str | None  # organ_id of an agency submitter's agency
    active: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class TokenView:
    """A token as listed: never its secret (only the first 12 characters, to recognise it)."""

    id: int
    username: str
    label: str
    prefix: str
    state: core.TokenState
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class NewToken:
    view: TokenView
    token: str  # shown once


@dataclass(frozen=True)
class Caller:
    """Who an HTTP request comes from, and how it proved it."""

    identity: Identity
    method: AuthMethod
    expires_at: dt.datetime | None
    csrf_token: str | None = None  # a session's, for its unsafe requests
    session_secret: str | None = None


@dataclass(frozen=True)
class Login:
    """A successful login: the session secret goes into the cookie, the rest to the client."""

    caller: Caller
    secret: str


def _require_admin(identity: Identity) -> None:
    if not identity.has(UserRole.ADMIN):
        raise Forbidden("AUTH004")


def _roles(user: User) -> frozenset[UserRole]:
    known = set(UserRole)
    return frozenset(UserRole(r.name) for r in user.roles if r.name in known)


def _agency_code(session: Session, user: User) -> str | None:
    if user.agency_id is None:
        return None
    agency = session.get(Agency, user.agency_id)
    return agency.organ_id if agency else None


def _identity(session: Session, user: User) -> Identity:
    return Identity(user.username, _roles(user), _agency_code(session, user))


def _user_view(session: Session, user: User) -> UserView:
    return UserView(user.username, user.full_name, tuple(sorted(r.name for r in user.roles)),
                    _agency_code(session, user), user.is_active, core.aware(user.created_at))


def _token_view(row: ApiToken, username: str) -> TokenView:
    def at(value: dt.datetime | None) -> dt.datetime | None:
        return core.aware(value) if value is not None else None

    return TokenView(row.id, username, row.name, row.prefix, core.token_state(row),
                     core.aware(row.created_at), at(row.expires_at), at(row.last_used_at),
                     at(row.revoked_at))


def _user(session: Session, username: str) -> User:
    user = core.find_user(session, username)
    if user is None:
        raise NotFound("GEN002", "username", what=Noun.USER, key=username[:80])
    return user


def _text_issues(field: str, value: str | None, longest: int) -> list[Issue]:
    """A free-text field the catalog keeps: no control characters, at most ``longest``."""
    found = []
    if value is not None and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        found.append(Issue("ACC013", field, {"field": field}))
    if value is not None and len(value) > longest:
        found.append(Issue("ACC024", field, {"field": field, "max": longest}))
    return found


# --- accounts -----------------------------------------------------------------------------

def add_user(ctx: ServiceContext, identity: Identity, username: str, password: str,
             roles: list[str], *, agency: str | None = None,
             full_name: str | None = None) -> UserView:
    """A new account; every problem with it is reported at once (``ACC001``), a taken name is
    ``AUTH001`` (a conflict)."""
    _require_admin(identity)
    roles = sorted({str(r) for r in roles})
    with UnitOfWork(ctx) as uow:
        s = uow.session
        report = Report()
        for issue in (core.account_issues(s, username, roles, agency,
                                          UserRole.AGENCY_SUBMITTER.value)
                      + core.password_issues(password, username)
                      + _text_issues("full_name", full_name, 200)):
            report.issues.append(issue)
        if report.issues:
            raise ValidationFailed(report, "ACC001")
        agency_id = core.agency_id(s, agency) if agency else None
        user = core.create_user(s, username, password, roles, full_name=full_name,
                                agency=agency_id, actor=identity.actor)
        view = _user_view(s, user)
        uow.register(MirrorAuditLog())
    return view


def list_users(ctx: ServiceContext, identity: Identity, page: int = 1,
               size: int = 50) -> tuple[list[UserView], int]:
    _require_admin(identity)
    with ctx.catalog.session() as s:
        total = s.scalar(sa.select(sa.func.count(User.id))) or 0
        users = s.scalars(sa.select(User).order_by(User.username)
                          .offset((page - 1) * size).limit(size))
        return [_user_view(s, u) for u in users], total


def get_user(ctx: ServiceContext, identity: Identity, username: str) -> UserView:
    _require_admin(identity)
    with ctx.catalog.session() as s:
        return _user_view(s, _user(s, username))


def set_active(ctx: ServiceContext, identity: Identity, username: str,
               active: bool) -> UserView:
    """Enable or disable an account. Disabling ends its sessions and stops its tokens at
    once; the last enabled admin cannot be disabled (``ACC015``: nobody could manage
    accounts any more)."""
    _require_admin(identity)
    with UnitOfWork(ctx) as uow:
        s = uow.session
        user = _user(s, username)
        if (not active and user.is_active and "admin" in {r.name for r in user.roles}
                and core.active_admins(s) <= 1):
            raise Conflict("ACC015", username=username)
        core.set_active(s, user, active, identity.actor)
        view = _user_view(s, user)
        uow.register(MirrorAuditLog())
    return view


def _password_report(password: str, username: str, path: str) -> None:
    issues = core.password_issues(password, username, path)
    if issues:
        raise ValidationFailed(Report(issues), "ACC023")


def reset_password(ctx: ServiceContext, identity: Identity, username: str,
                   password: str) -> None:
    """An admin sets an account's password (it forgot it, or it may be known to someone
    else): the account's sessions are all closed; its API tokens stay."""
    _require_admin(identity)
    _password_report(password, username, "password")
    with UnitOfWork(ctx) as uow:
        user = _user(uow.session, username)
        core.set_password(uow.session, user, password, identity.actor)
        uow.register(MirrorAuditLog())


def change_password(ctx: ServiceContext, caller: Caller, current: str, new: str,
                    client: str) -> None:
    """The caller changes its own password, proving the current one (a wrong one counts as a
    failed login: ``ACC019``, and ``ACC021`` once too many). Its other sessions are closed;
    the one it is using stays open."""
    username = caller.identity.actor
    rules = limits(ctx)
    with ctx.catalog.session() as s:
        wait = core.login_wait(s, username, client, rules)
    if wait:
        raise TooManyRequests("ACC021", retry_after=wait, seconds=wait)
    with ctx.catalog.session() as s:
        user = core.find_user(s, username)
        good = user is not None and core.check_password(current, user.password_hash)
        if not good:
            core.record_failure(s, username, client)
    if not good:
        raise Forbidden("ACC019")
    _password_report(new, username, "new_password")
    with UnitOfWork(ctx) as uow:
        user = _user(uow.session, username)
        kept = (core.session_record(uow.session, caller.session_secret)
                if caller.session_secret else None)
        core.set_password(uow.session, user, new, username,
                          keep_session=kept.id if kept is not None else None)
        uow.register(MirrorAuditLog())


# --- API tokens ---------------------------------------------------------------------------

def issue_token(ctx: ServiceContext, identity: Identity, username: str, *,
                expires: str = "90d", label: str = "api") -> NewToken:
    """A new API token for ``username``, valid for ``expires`` (``12h``, ``90d``; at most a
    year, never unlimited). The secret is in the result once and stored nowhere."""
    _require_admin(identity)
    lifetime = core.parse_lifetime(expires)
    report = Report()
    if isinstance(lifetime, Issue):
        report.issues.append(lifetime)
    report.issues.extend(_text_issues("label", label, 100))
    if not label.strip():
        report.issues.append(Issue("ACC017", "label", {"max": 100}))
    if report.issues or isinstance(lifetime, Issue):
        raise ValidationFailed(report, "ACC016")
    with UnitOfWork(ctx) as uow:
        user = _user(uow.session, username)
        if not user.is_active:
            raise Conflict("ACC014", username=username)
        issued = core.issue_token(uow.session, user, label, actor=identity.actor,
                                  lifetime=lifetime)
        view = _token_view(issued.record, user.username)
        uow.register(MirrorAuditLog())
    return NewToken(view, issued.token)


def list_tokens(ctx: ServiceContext, identity: Identity, username: str, page: int = 1,
                size: int = 50) -> tuple[list[TokenView], int]:
    """An account's tokens, newest first, without their secrets (admin, or the owner)."""
    if identity.actor != username:
        _require_admin(identity)
    with ctx.catalog.session() as s:
        user = _user(s, username)
        where = ApiToken.user_id == user.id
        total = s.scalar(sa.select(sa.func.count(ApiToken.id)).where(where)) or 0
        rows = s.scalars(sa.select(ApiToken).where(where).order_by(ApiToken.id.desc())
                         .offset((page - 1) * size).limit(size))
        return [_token_view(r, user.username) for r in rows], total


def revoke_token(ctx: ServiceContext, identity: Identity, token_id: int) -> TokenView:
    """Revoke a token at once (again: no change). An admin may revoke any token, an account
    its own; to anyone else the token does not exist (``GEN002``)."""
    with UnitOfWork(ctx) as uow:
        s = uow.session
        row = s.get(ApiToken, token_id) if 0 < token_id <= MAX_INT else None
        if row is None or not (identity.has(UserRole.ADMIN) or row.user.username == identity.actor):
            raise NotFound("GEN002", "token_id", what=Noun.TOKEN, key=token_id)
        core.revoke_token(s, row, identity.actor)
        view = _token_view(row, row.user.username)
        uow.register(MirrorAuditLog())
    return view


# --- authentication -----------------------------------------------------------------------

def authenticate_token(ctx: ServiceContext, token: str) -> Caller | None:
    """The caller holding API token ``token``; None for a token that is unknown, expired,
    revoked or whose account is disabled."""
    with ctx.catalog.reading() as s:  # most requests: no write, no wait for the write lock
        row = core.token_record(s, token, touch=False)
        if row is None:
            return None
        expires = core.aware(row.expires_at) if row.expires_at else None
        caller = Caller(_identity(s, row.user), "token", expires)
        stale = core.needs_touch(row, dt.datetime.now(dt.UTC))
    if stale:  # at most once a minute a token
        with ctx.catalog.session() as s:
            core.token_record(s, token)
    return caller


def authenticate_session(ctx: ServiceContext, secret: str) -> Caller | None:
    """The caller of an open login session; None when it is unknown, expired, closed or its
    account disabled."""
    with ctx.catalog.session() as s:
        row = core.session_record(s, secret)
        if row is None:
            return None
        return Caller(_identity(s, row.user), "session", core.aware(row.expires_at),
                      core.csrf_token(secret), secret)


def limits(ctx: ServiceContext) -> core.LoginLimits:
    st = ctx.settings
    return core.LoginLimits(st.login_max_failures, st.login_max_failures_client,
                            dt.timedelta(seconds=st.login_window))


def login(ctx: ServiceContext, username: str, password: str, client: str) -> Login:
    """Open a login session. A wrong password, an unknown or a disabled account all get the
    same ``ACC020`` after the same work (one password check); after too many failures for the
    username or the client within the window, ``ACC021`` (HTTP 429) until the oldest leaves
    it, even with the right password. A legacy or weaker hash is replaced now. Attempts
    already under way when the limit is reached still count (the check and the record are two
    transactions), so concurrent guessing overshoots the limit by at most the attempts in
    flight."""
    rules = limits(ctx)
    with ctx.catalog.session() as s:
        wait = core.login_wait(s, username, client, rules)
    if wait:
        raise TooManyRequests("ACC021", retry_after=wait, seconds=wait)
    with ctx.catalog.session() as s:
        user = core.find_user(s, username)
        if user is None:
            core.spend_check_time(password)
            good = False
        else:
            good = core.check_password(password, user.password_hash) and user.is_active
        if not good:
            core.record_failure(s, username, client)
    if not good:
        raise Unauthorised("ACC020")
    with ctx.catalog.session() as s:
        user = core.find_user(s, username)
        if user is None or not user.is_active:  # disabled in the meantime
            raise Unauthorised("ACC020")
        if core.needs_rehash(user.password_hash):
            core.rehash(s, user, password)
        core.clear_failures(s, username, rules.window)
        lifetime = dt.timedelta(hours=ctx.settings.session_hours)
        secret, row = core.open_session(s, user, lifetime, client)
        audit.record(s, user.username, "user.login", "user", user.id, session_id=row.id,
                     client=client[:64])
        caller = Caller(_identity(s, user), "session", core.aware(row.expires_at),
                        core.csrf_token(secret), secret)
    return Login(caller, secret)


def logout(ctx: ServiceContext, caller: Caller) -> None:
    """Close the caller's login session (a token caller has none: nothing to do)."""
    if caller.session_secret is None:
        return
    with ctx.catalog.session() as s:
        row = core.session_record(s, caller.session_secret)
        if row is not None:
            core.close_session(s, row)
            audit.record(s, caller.identity.actor, "user.logout", "user", row.user_id,
                         session_id=row.id)


@dataclass(frozen=True)
class Me:
    user: UserView
    method: AuthMethod
    expires_at: dt.datetime | None
    csrf_token: str | None


def me(ctx: ServiceContext, caller: Caller) -> Me:
    """The caller's own account, and how long its token or session lasts."""
    with ctx.catalog.session() as s:
        user = core.find_user(s, caller.identity.actor)
        if user is None:
            raise Unauthorised("AUTH003")
        return Me(_user_view(s, user), caller.method, caller.expires_at, caller.csrf_token)
