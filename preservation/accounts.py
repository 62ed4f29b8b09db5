"""Users, roles and API tokens. Passwords use scrypt; tokens are random and stored as SHA-256."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from preservation.catalog import audit
from preservation.catalog.models import ApiToken, Role, User, utcnow
from preservation.errors import Conflict, KhosoError

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(key).decode()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    probe = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt),
                           n=int(n), r=int(r), p=int(p), dklen=32)
    return hmac.compare_digest(probe, base64.b64decode(key))


def create_user(session: Session, username: str, password: str, roles: list[str],
                *, full_name: str | None = None, actor: str = "system") -> User:
    if session.scalar(sa.select(User).where(User.username == username)):
        raise Conflict("AUTH001", username=username)
    found = list(session.scalars(sa.select(Role).where(Role.name.in_(roles))))
    missing = set(roles) - {r.name for r in found}
    if missing:
        raise KhosoError("AUTH002", role=", ".join(sorted(missing)))
    user = User(username=username, password_hash=hash_password(password),
                full_name=full_name, roles=found)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", "user", user.id,
                 username=username, roles=sorted(roles))
    return user


def ensure_first_admin(session: Session) -> tuple[str, str] | None:
    """Create the first admin when there is no user yet; returns (username, password) once."""
    if session.scalar(sa.select(sa.func.count(User.id))):
        return None
    password = secrets.token_urlsafe(15)
    create_user(session, "admin", password, ["admin"], full_name="Quản trị hệ thống")
    return "admin", password


@dataclass(frozen=True)
class IssuedToken:
    token: str
    record: ApiToken


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, name: str, actor: str = "system") -> IssuedToken:
    """A new API token; the secret is returned once and only its SHA-256 is stored."""
    secret = "khoso_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, prefix=secret[:12], token_hash=token_digest(secret))
    session.add(row)
    session.flush()
    audit.record(session, actor, "token.issue", "user", user.id, name=name, prefix=row.prefix)
    return IssuedToken(secret, row)


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at.replace(tzinfo=now.tzinfo) < now:
        return None
    if not row.user.is_active:
        return None
    row.last_used_at = now
    return row.user
