"""A khoso instance on the real catalog, the harness's clamd and two filesystem replicas: what
the ``khoso`` fixture (``tests/integration/conftest.py``) yields."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from access_api.services import build_services
from ingest.jobs import create_job, run_job
from preservation.catalog.db import Catalog
from preservation.settings import Settings


@dataclass
class Khoso:
    settings: Settings
    catalog: Catalog
    tmp: Path

    def ingest(self, path: Path, services=None):
        job = create_job(self.catalog, path, "tester")
        return run_job(self.settings, self.catalog, job,
                       services=services or build_services(self.settings))

    def replica(self, name: str) -> Path:
        return self.settings.location(name).path


def services_recording_staged(khoso, staged):
    """Real services whose after-register hook also records which files the read pass staged."""
    services = build_services(khoso.settings)
    hook = services.after_register

    def after(ctx, catalog):
        staged[:] = sorted(ctx.staged)
        hook(ctx, catalog)
    services.after_register = after
    return services
