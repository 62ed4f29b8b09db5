"""The services layer: one function or class per operation, called by the CLI, the HTTP API and
the workers alike. ``wiring`` is the composition root (adapters and locations from settings)."""

from access_api.services.wiring import (
    build_services,
    build_storages,
    mirror_fonds,
    mirror_log,
)

__all__ = ["build_services", "build_storages", "mirror_fonds", "mirror_log"]
