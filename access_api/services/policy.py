"""Who may see what (TT 05 ``mode``, NĐ 113/2025 Điều 22): one policy every reader-facing
service applies, so search, records, files, OAI-PMH and DIPs can never disagree.

- 01 Công khai: anyone sees the metadata and the content.
- 02 Sử dụng có điều kiện: anyone sees the metadata; the content only staff, the agency that
  submitted it, or a reader with an approved, unexpired access request.
- 03 Mật: staff and the submitting agency only; for everyone else it does not exist (no search
  hit, no facet count, 404 rather than 403).
"""

from __future__ import annotations

from access_api.services.base import Identity, UserRole
from preservation.catalog.vocab import AccessMode

STAFF = (UserRole.ADMIN, UserRole.ARCHIVIST, UserRole.PRESERVATION_OFFICER)


def is_staff(identity: Identity) -> bool:
    return identity.has(*STAFF)


def _own(identity: Identity, organ_id: str | None) -> bool:
    return (identity.agency is not None and organ_id is not None
            and identity.has(UserRole.AGENCY_SUBMITTER) and identity.agency == organ_id)


def visible_modes(identity: Identity) -> frozenset[AccessMode]:
    """The modes whose metadata the caller sees everywhere (their own agency's aside)."""
    if is_staff(identity):
        return frozenset(AccessMode)
    return frozenset({AccessMode.PUBLIC, AccessMode.CONDITIONAL})


def may_see(identity: Identity, mode: str | None, organ_id: str | None = None) -> bool:
    """Whether the metadata of a record or document of ``mode`` exists for the caller.
    A missing mode is read as the strictest (03)."""
    return _mode(mode) in visible_modes(identity) or _own(identity, organ_id)


def may_read(identity: Identity, mode: str | None, organ_id: str | None = None, *,
             approved_request: bool = False) -> bool:
    """Whether the caller may receive the content (the file bytes) of ``mode``."""
    m = _mode(mode)
    if is_staff(identity) or _own(identity, organ_id) or m is AccessMode.PUBLIC:
        return True
    return m is AccessMode.CONDITIONAL and approved_request


def effective_mode(document_mode: str | None, record_mode: str | None) -> str:
    """A document's mode for access: the stricter of its own and its hồ sơ's (a public
    document in a secret hồ sơ is secret), a missing one read as the other."""
    return AccessMode.strictest(document_mode, record_mode).value


def _mode(mode: str | None) -> AccessMode:
    try:
        return AccessMode(mode) if mode else AccessMode.SECRET
    except ValueError:
        return AccessMode.SECRET
