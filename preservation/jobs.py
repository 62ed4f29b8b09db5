"""The job queue: one Celery app built from settings; the catalog's ``job`` table is what users see.

Embedded default: kombu's SQLAlchemy transport on a SQLite file, so queued jobs survive a restart
with no server. Scaled out: Redis or RabbitMQ. Tasks are acknowledged late and re-queued when a
worker dies, so a job interrupted by SIGKILL runs again; the ingest makes that retry safe.
"""

from __future__ import annotations

from celery import Celery

from preservation.settings import Settings


def make_celery(settings: Settings) -> Celery:
    app = Celery("khoso", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": settings.job_visibility_timeout},
        worker_hijack_root_logger=False,
        task_default_queue="khoso",
    )
    return app
