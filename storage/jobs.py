"""The scheduled fixity audit as a Celery task, run by beat ``runs_per_day`` times a day."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from celery import Celery

from preservation.catalog.db import Catalog
from preservation.settings import Settings
from storage.protocol import Storage
from storage.schedule import scheduled_audit
from storage.sidecar_log import mirror_audit_log

TASK = "khoso.audit"


def register_audit_task(app: Celery, settings: Settings,
                        make_storages: Callable[[Settings], Mapping[str, Storage]]) -> None:
    catalog = Catalog(settings.database_url)

    def audit_task() -> dict[str, Any]:
        storages = make_storages(settings)
        report = scheduled_audit(catalog, storages,
                                 period_days=settings.audit_period_days,
                                 runs_per_day=settings.audit_runs_per_day, repair=True)
        # the audit log next to the AIPs, up to this run (best effort; the next run retries)
        mirror_audit_log(catalog, storages.values(), settings.archive_code)
        return report.to_dict()

    app.task(name=TASK, acks_late=True, reject_on_worker_lost=True)(audit_task)  # celery is untyped

    app.conf.beat_schedule = {
        "khoso-fixity-audit": {"task": TASK, "schedule": 86400 / settings.audit_runs_per_day},
    }
