"""What every service shares: who is calling, and what it works with.

Services know no HTTP and no terminal: the CLI, the HTTP API and the workers build an
``Identity`` and a ``ServiceContext``, call one service function and render its result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from preservation.catalog.db import Catalog
from preservation.settings import Settings
from storage.locations import open_storage
from storage.protocol import Storage


class UserRole(StrEnum):
    """The account roles; ``Role.name`` in the catalog holds these values (migration 0001 seeds
    them, 0007 renames ``submitter`` to ``agency_submitter``: an agency system's role, bound to
    one agency)."""

    ADMIN = "admin"
    ARCHIVIST = "archivist"
    AGENCY_SUBMITTER = "agency_submitter"
    PRESERVATION_OFFICER = "preservation_officer"
    READER = "reader"


@dataclass(frozen=True)
class Identity:
    """The caller of a service: recorded as the actor of audit-log entries and PREMIS events.

    ``agency`` binds an ``agency_submitter`` to one agency (its ``organ_id``)."""

    actor: str
    roles: frozenset[UserRole] = frozenset()
    agency: str | None = None

    @classmethod
    def system(cls, actor: str = "cli") -> Identity:
        """An operator on the server (CLI) or a worker: every role."""
        return cls(actor, frozenset(UserRole))

    def has(self, *roles: UserRole) -> bool:
        return bool(self.roles.intersection(roles))


@dataclass
class ServiceContext:
    """Settings with the catalog and storage locations they open, built once per caller."""

    settings: Settings
    _catalog: Catalog | None = None
    _storages: dict[str, Storage] | None = field(default=None, repr=False)

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = Catalog(self.settings.database_url)
        return self._catalog

    @property
    def storages(self) -> dict[str, Storage]:
        if self._storages is None:
            self._storages = build_storages(self.settings)
        return self._storages


def build_storages(settings: Settings) -> dict[str, Storage]:
    """Every configured storage location, opened, by name."""
    return {loc.name: open_storage(loc) for loc in settings.storage_locations}
