"""The daily appraisal scan as a Celery task on beat's schedule (``khoso worker`` /
``khoso beat``), registered by ``wiring.register_worker_tasks``."""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.schedules import crontab

from access_api.services.base import Identity, ServiceContext
from access_api.services.disposal.appraisal import scan
from access_api.services.uow import MirrorAuditLog, run_operations
from preservation.catalog.db import Catalog
from preservation.settings import Settings

TASK = "khoso.disposal.scan"
SCHEDULE = "khoso-disposal-scan"


def register_disposal_scan(app: Celery, settings: Settings) -> None:
    """One scan a day at ``KHOSO_DISPOSAL_SCAN_HOUR`` (UTC), as the scheduler."""
    catalog = Catalog(settings.database_url)

    def disposal_scan() -> dict[str, Any]:
        ctx = ServiceContext(settings, catalog)  # locations opened afresh by the mirror
        result = scan(ctx, Identity.system("scheduler")).to_dict()
        run_operations(ctx, [MirrorAuditLog()])
        return result

    app.task(name=TASK, acks_late=True, reject_on_worker_lost=True,
             shared=False)(disposal_scan)
    app.conf.beat_schedule = {**(app.conf.beat_schedule or {}), SCHEDULE: {
        "task": TASK, "schedule": crontab(minute=0, hour=settings.disposal_scan_hour)}}
