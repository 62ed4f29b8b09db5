"""Users, roles, API tokens and login sessions: the rules, without HTTP or a terminal.

Passwords are hashed with argon2id (the OWASP minimum profile: 19 MiB, 2 passes, 1 lane;
about 28 ms a hash on the 2-core build machine, measured 2026-12-07). A ``scrypt$…`` hash
written before argon2 still verifies, and the login service replaces it with an argon2 one
(``needs_rehash``) at the next successful login. Passwords are normalised to Unicode NFC
before hashing, so a Vietnamese password typed on macOS (NFD) or Windows (NFC) is the same.

API tokens and session secrets are random; the catalog keeps only their SHA-256, so a copy of
the catalog gives nobody a way in. Tokens always expire (``parse_lifetime``: at most a year);
a session's CSRF token is derived from its secret and never stored.

``create_user`` and ``issue_token`` trust their caller: the services (``access_api.services
.accounts``) check the password policy (``password_issues``) and the account rules
(``account_issues``) before calling them, so tests and the first admin can make accounts
directly.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session, joinedload

from preservation.catalog import audit
from preservation.catalog.models import (
    Agency,
    ApiToken,
    LoginFailure,
    LoginSession,
    Role,
    User,
    utcnow,
)
from preservation.errors import Conflict, KhosoError
from preservation.issues import Issue

ARGON2 = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,79}")
"""A username: lower-case ASCII letters, digits, ``. _ @ -``, 1–80 characters (no look-alike
names that differ only in case or in Unicode form)."""
RESERVED = frozenset({"anonymous", "system", "cli"})
"""Names the audit log uses for callers that are not accounts."""

DEFAULT_TOKEN_LIFETIME = dt.timedelta(days=90)
MAX_TOKEN_LIFETIME = dt.timedelta(days=365)
_LIFETIME = re.compile(r"([1-9][0-9]{0,5})([hd])")
LIFETIME_PATTERN = ("^(?:(?:[1-9]|[1-9][0-9]|[12][0-9]{2}|3[0-5][0-9]|36[0-5])d"
                    "|(?:[1-9][0-9]{0,2}|[1-7][0-9]{3}|8[0-6][0-9]{2}|87[0-5][0-9]|8760)h)$")
"""Every lifetime ``parse_lifetime`` accepts, as one regular expression (for the OpenAPI
document)."""
TOKEN_PREFIX = "khoso_"
# last_used_at / last_seen_at are written at most this often: a write per request would make
# every read a catalog write.
TOUCH_EVERY = dt.timedelta(minutes=1)
SESSION_KEPT = dt.timedelta(days=30)  # an expired session row is deleted this long after


def aware(value: dt.datetime) -> dt.datetime:
    """A catalog time as UTC-aware (SQLite returns it without its zone)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


# --- passwords ----------------------------------------------------------------------------

def _nfc(password: str) -> str:
    return unicodedata.normalize("NFC", password)


def _secret(password: str) -> bytes:
    """The bytes hashed: NFC, UTF-8 (a lone surrogate a JSON body may carry kept as is)."""
    return _nfc(password).encode("utf-8", "surrogatepass")


def hash_password(password: str) -> str:
    return ARGON2.hash(_secret(password))


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (argon2, or a legacy ``scrypt$`` hash)."""
    if stored.startswith("scrypt$"):
        return _check_scrypt(password, stored)
    try:
        return ARGON2.verify(stored, _secret(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` should be replaced at the next login: a legacy scrypt hash, or an
    argon2 hash made with weaker parameters than today's."""
    if not stored.startswith("$argon2"):
        return True
    try:
        return ARGON2.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _check_scrypt(password: str, stored: str) -> bool:
    try:
        _scheme, n, r, p, salt, key = stored.split("$")
        expected = base64.b64decode(key)
        probe = hashlib.scrypt(password.encode("utf-8", "surrogatepass"),
                               salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                               dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(probe, expected)


@cache
def _decoy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def spend_check_time(password: str) -> None:
    """Verify ``password`` against a throw-away hash: a login for an unknown user takes as
    long as one for a known user, so the time does not tell which usernames exist."""
    check_password(password, _decoy_hash())


def _classes(password: str) -> set[str]:
    kinds = set()
    for ch in password:
        if ch.isdigit():
            kinds.add("digit")
        elif ch.islower():
            kinds.add("lower")
        elif ch.isupper():
            kinds.add("upper")
        else:
            kinds.add("other")
    return kinds


def password_issues(password: str, username: str, path: str = "password") -> list[Issue]:
    """Why ``password`` fails the policy (empty when it passes): at least 12 characters and at
    most 1024; at least two kinds of character among lower-case letters, upper-case letters,
    digits and the rest (spaces, punctuation, symbols); not containing the username."""
    found: list[Issue] = []
    text = _nfc(password)
    if len(text) < MIN_PASSWORD:
        found.append(Issue("ACC002", path, {"min": MIN_PASSWORD, "length": len(text)}))
    if len(text) > MAX_PASSWORD:
        found.append(Issue("ACC003", path, {"max": MAX_PASSWORD}))
    if text and len(_classes(text)) < 2:
        found.append(Issue("ACC004", path))
    if len(username) >= 3 and username.casefold() in text.casefold():
        found.append(Issue("ACC005", path))
    return found


def make_password() -> str:
    """A random password that passes the policy (for the first admin, shown once)."""
    while True:
        candidate = secrets.token_urlsafe(18)
        if not password_issues(candidate, ""):
            return candidate


# --- accounts -----------------------------------------------------------------------------

def account_issues(session: Session, username: str, roles: list[str],
                   agency: str | None, agency_role: str) -> list[Issue]:
    """What makes a new account's name, roles or agency unacceptable: a username outside
    ``USERNAME``, an unknown role (``AUTH002``), an agency missing for, or given without, the
    agency role ``agency_role`` (``ACC006``/``ACC007``), an agency not in the catalog
    (``ACC008``)."""
    found: list[Issue] = []
    if not USERNAME.fullmatch(username):
        found.append(Issue("ACC009", "username", {"max": 80}))
    elif username in RESERVED:
        found.append(Issue("ACC018", "username", {"username": username}))
    known = set(session.scalars(sa.select(Role.name)))
    for role in sorted(set(roles) - known):
        found.append(Issue("AUTH002", "roles", {"role": role}))
    if not roles:
        found.append(Issue("ACC010", "roles"))
    if agency_role in roles and not agency:
        found.append(Issue("ACC006", "agency", {"role": agency_role}))
    elif agency and agency_role not in roles:
        found.append(Issue("ACC007", "agency", {"role": agency_role}))
    elif agency and agency_id(session, agency) is None:
        found.append(Issue("ACC008", "agency", {"agency": agency}))
    return found


def agency_id(session: Session, organ_id: str) -> int | None:
    if "\x00" in organ_id:
        return None
    return session.scalar(sa.select(Agency.id).where(Agency.organ_id == organ_id))


def find_user(session: Session, username: str) -> User | None:
    """The account named ``username``; None for a name no account can have (no catalog query,
    so hostile input never reaches the database). Names made before ``USERNAME`` was the rule
    are still found."""
    if not username or len(username) > 80 or "\x00" in username:
        return None
    try:
        username.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a JSON body
        return None
    return session.scalar(sa.select(User).where(User.username == username))


def create_user(session: Session, username: str, password: str, roles: list[str],
                *, full_name: str | None = None, agency: int | None = None,
                actor: str = "system") -> User:
    """A new account (``agency``: the id of the agency an agency submitter acts for)."""
    if session.scalar(sa.select(User.id).where(User.username == username)):
        raise Conflict("AUTH001", username=username)
    found = list(session.scalars(sa.select(Role).where(Role.name.in_(roles))))
    missing = set(roles) - {r.name for r in found}
    if missing:
        raise KhosoError("AUTH002", role=", ".join(sorted(missing)))
    user = User(username=username, password_hash=hash_password(password),
                full_name=full_name, roles=found, agency_id=agency)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", "user", user.id,
                 username=username, roles=sorted(str(r) for r in roles), agency_id=agency)
    return user


def ensure_first_admin(session: Session) -> tuple[str, str] | None:
    """Create the first admin when there is no user yet; returns (username, password) once."""
    if session.scalar(sa.select(sa.func.count(User.id))):
        return None
    password = make_password()
    create_user(session, "admin", password, ["admin"], full_name="Quản trị hệ thống")
    return "admin", password


def set_active(session: Session, user: User, active: bool, actor: str) -> None:
    """Enable or disable ``user``; disabling also ends every open session at once (its
    tokens stop working too: every token check looks at the account)."""
    if user.is_active == active:
        return
    user.is_active = active
    now = utcnow()
    if not active:
        session.execute(sa.update(LoginSession)
                        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
                        .values(revoked_at=now))
    audit.record(session, actor, "user.enable" if active else "user.disable", "user", user.id,
                 username=user.username)


def active_admins(session: Session) -> int:
    return session.scalar(
        sa.select(sa.func.count(sa.distinct(User.id))).join(User.roles)
        .where(Role.name == "admin", User.is_active.is_(True))) or 0


def set_password(session: Session, user: User, password: str, actor: str,
                 keep_session: int | None = None) -> None:
    """A new password for ``user``; every open session but ``keep_session`` (the one the
    change was made in) is closed, so a stolen session ends with the old password. API tokens
    are credentials of their own and stay."""
    user.password_hash = hash_password(password)
    closing = sa.update(LoginSession).where(LoginSession.user_id == user.id,
                                            LoginSession.revoked_at.is_(None))
    if keep_session is not None:
        closing = closing.where(LoginSession.id != keep_session)
    session.execute(closing.values(revoked_at=utcnow()))
    audit.record(session, actor, "user.password", "user", user.id, username=user.username)


def rehash(session: Session, user: User, password: str) -> None:
    """Replace ``user``'s legacy or weaker hash after a successful login."""
    user.password_hash = hash_password(password)
    audit.record(session, "system", "user.rehash", "user", user.id, username=user.username,
                 scheme="argon2id")


# --- API tokens ---------------------------------------------------------------------------

@dataclass(frozen=True)
class IssuedToken:
    token: str
    record: ApiToken


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def parse_lifetime(text: str) -> dt.timedelta | Issue:
    """``90d``, ``12h``… as a duration, or the issue with it: a token never lives forever
    (``never`` is refused, ``ACC012``) nor longer than a year."""
    match = _LIFETIME.fullmatch(text)
    if match is None:
        if text.strip().lower() in {"never", "0", "none", "infinite", "forever"}:
            return Issue("ACC012", "expires", {"max": MAX_TOKEN_LIFETIME.days})
        return Issue("ACC011", "expires", {"value": text[:40]})
    count, unit = int(match[1]), match[2]
    lifetime = dt.timedelta(days=count) if unit == "d" else dt.timedelta(hours=count)
    if lifetime > MAX_TOKEN_LIFETIME:
        return Issue("ACC012", "expires", {"max": MAX_TOKEN_LIFETIME.days})
    return lifetime


def issue_token(session: Session, user: User, name: str, actor: str = "system",
                *, lifetime: dt.timedelta = DEFAULT_TOKEN_LIFETIME) -> IssuedToken:
    """A new API token; the secret is returned once and only its SHA-256 is stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + lifetime
    row = ApiToken(user_id=user.id, name=name, prefix=secret[:12], token_hash=token_digest(secret),
                   created_at=now, expires_at=expires)
    session.add(row)
    session.flush()
    audit.record(session, actor, "token.issue", "user", user.id, name=name, prefix=row.prefix,
                 token_id=row.id, expires_at=expires.isoformat())
    return IssuedToken(secret, row)


class TokenState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"  # a revoked token that has expired since is still "revoked"


def token_state(row: ApiToken, now: dt.datetime | None = None) -> TokenState:
    now = now or utcnow()
    if row.revoked_at is not None:
        return TokenState.REVOKED
    if row.expires_at is not None and aware(row.expires_at) <= now:
        return TokenState.EXPIRED
    return TokenState.ACTIVE


def token_record(session: Session, token: str, *, touch: bool = True) -> ApiToken | None:
    """The usable token row of ``token`` (not revoked, not expired, its account enabled);
    marks it used (``touch``) when it was last marked more than ``TOUCH_EVERY`` ago."""
    if not token or len(token) > 200:
        return None
    row = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_digest(token))
                         .options(joinedload(ApiToken.user).selectinload(User.roles)))
    now = utcnow()
    if row is None or token_state(row, now) is not TokenState.ACTIVE or not row.user.is_active:
        return None
    if touch and needs_touch(row, now):
        row.last_used_at = now
    return row


def needs_touch(row: ApiToken, now: dt.datetime) -> bool:
    return row.last_used_at is None or aware(row.last_used_at) + TOUCH_EVERY < now


def user_for_token(session: Session, token: str) -> User | None:
    row = token_record(session, token)
    return row.user if row is not None else None


def revoke_token(session: Session, row: ApiToken, actor: str) -> None:
    if row.revoked_at is not None:
        return
    row.revoked_at = utcnow()
    audit.record(session, actor, "token.revoke", "user", row.user_id, token_id=row.id,
                 prefix=row.prefix)


# --- login sessions -----------------------------------------------------------------------

def csrf_token(secret: str) -> str:
    """The CSRF token of a session, derived from its secret (which only the cookie holds):
    another site can neither read the cookie nor compute this."""
    mac = hmac.new(secret.encode("utf-8", "surrogatepass"), b"khoso-csrf", hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def open_session(session: Session, user: User, lifetime: dt.timedelta,
                 client: str | None) -> tuple[str, LoginSession]:
    """A new login session for ``user``: its secret (for the cookie, returned once) and row."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(sa.delete(LoginSession).where(  # long over: nothing left to check
        LoginSession.user_id == user.id, LoginSession.expires_at < now - SESSION_KEPT))
    row = LoginSession(user_id=user.id, secret_hash=token_digest(secret), created_at=now,
                       expires_at=now + lifetime, last_seen_at=now,
                       client=(client or "")[:64] or None)
    session.add(row)
    session.flush()
    return secret, row


def session_record(session: Session, secret: str) -> LoginSession | None:
    """The open session of ``secret`` (not expired, not closed, its account enabled)."""
    if not secret or len(secret) > 200:
        return None
    row = session.scalar(sa.select(LoginSession)
                         .where(LoginSession.secret_hash == token_digest(secret))
                         .options(joinedload(LoginSession.user).selectinload(User.roles)))
    now = utcnow()
    if (row is None or row.revoked_at is not None or aware(row.expires_at) <= now
            or not row.user.is_active):
        return None
    if row.last_seen_at is None or aware(row.last_seen_at) + TOUCH_EVERY < now:
        row.last_seen_at = now
    return row


def close_session(session: Session, row: LoginSession) -> None:
    if row.revoked_at is None:
        row.revoked_at = utcnow()


# --- failed logins ------------------------------------------------------------------------

@dataclass(frozen=True)
class LoginLimits:
    """At most ``per_user`` failed logins for one username and ``per_client`` from one client
    address within ``window``; then the next attempt waits (HTTP 429)."""

    per_user: int
    per_client: int
    window: dt.timedelta


def failure_key(username: str) -> str:
    """How a username is counted: case-folded, without NUL, at most 80 characters (so
    ``Admin`` and ``admin`` share one count, and any text the client sends can be stored)."""
    text = username.casefold().replace("\x00", "")[:80]
    return text.encode("utf-8", "replace").decode("utf-8")


def login_wait(session: Session, username: str, client: str, limits: LoginLimits) -> int:
    """Seconds the caller must wait before the next login attempt; 0 when it may try now."""
    now = utcnow()
    since = now - limits.window
    waits = [0]
    for column, value, limit in ((LoginFailure.username, failure_key(username), limits.per_user),
                                 (LoginFailure.client, client[:64], limits.per_client)):
        times = list(session.scalars(
            sa.select(LoginFailure.at).where(column == value, LoginFailure.at > since)
            .order_by(LoginFailure.at.desc()).limit(limit)))
        if len(times) >= limit:  # the oldest of the last ``limit`` failures leaves the window
            waits.append(int((aware(times[-1]) + limits.window - now).total_seconds()) + 1)
    return max(waits)


def record_failure(session: Session, username: str, client: str) -> None:
    session.add(LoginFailure(at=utcnow(), username=failure_key(username), client=client[:64]))


def clear_failures(session: Session, username: str, older_than: dt.timedelta) -> None:
    """After a successful login the username's count starts again; failures older than the
    window are deleted on the way (they count for nothing)."""
    session.execute(sa.delete(LoginFailure).where(sa.or_(
        LoginFailure.username == failure_key(username),
        LoginFailure.at < utcnow() - older_than)))
