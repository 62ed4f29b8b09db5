"""The services layer: one function or class per operation, called by the CLI, the HTTP API and
the workers alike; each takes the caller's ``Identity`` and a ``ServiceContext`` and knows no
HTTP and no terminal. ``uow`` holds the unit of work and every post-commit side effect;
``wiring`` is the composition root (adapters and locations from settings)."""

from access_api.services.base import Identity, ServiceContext, UserRole, build_storages
from access_api.services.wiring import build_services

__all__ = ["Identity", "ServiceContext", "UserRole", "build_services", "build_storages"]
