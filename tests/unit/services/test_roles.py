"""The services' role vocabulary is the catalog's: every seeded role, and no other."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from access_api.services.base import UserRole
from preservation.catalog.db import Catalog
from preservation.catalog.models import Role


def test_user_roles_are_the_roles_the_catalog_seeds(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    catalog.upgrade()
    with catalog.session() as s:
        assert set(s.scalars(sa.select(Role.name))) == {r.value for r in UserRole}
    catalog.dispose()
