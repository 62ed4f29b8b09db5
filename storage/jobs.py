"""The scheduled fixity audit as a Celery task, run by beat ``runs_per_day`` times a day."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Celery

from preservation.settings import Settings

TASK = "khoso.audit"


def register_audit_task(app: Celery, settings: Settings, run: Callable[[], dict[str, Any]]) -> None:
    """``run`` is one scheduled audit with its sidecars (``access_api.services.audit.scheduled``,
    wired by the composition root); it returns the run's report."""

    def audit_task() -> dict[str, Any]:
        return run()

    app.task(name=TASK, acks_late=True, reject_on_worker_lost=True)(audit_task)  # celery is untyped

    app.conf.beat_schedule = {
        "khoso-fixity-audit": {"task": TASK, "schedule": 86400 / settings.audit_runs_per_day},
    }
