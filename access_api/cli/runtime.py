"""Long-running processes and their health: serve, worker, beat, health."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from access_api.cli.base import Context, info, main, process_log_level
from access_api.i18n import N_, _
from ingest import local_clamd
from preservation import __version__


@main.command()
@click.option("--host", default=None, help=N_("Mặc định KHOSO_HOST."))
@click.option("--port", type=int, default=None, help=N_("Mặc định KHOSO_PORT."))
@click.option("--worker/--no-worker", "with_worker", default=True, show_default=True,
              help=N_("Chạy kèm một tiến trình xử lý công việc và lịch kiểm tra định kỳ (khi chạy "
                      "nhiều máy: --no-worker, cùng `khoso worker` và một `khoso beat`)."))
@click.pass_obj
def serve(obj: Context, host: str | None, port: int | None, with_worker: bool) -> None:
    """Chạy dịch vụ web (cùng clamd cục bộ do khoso quản lý)."""
    from waitress import serve as waitress_serve

    from access_api.app import create_app
    from access_api.supervisor import Supervisor

    s = obj.settings
    app = create_app(s)
    clamd, owned = None, False
    if s.clamd_managed:
        clamd = local_clamd.configure(s.clamd_dir, tmpdir=Path(s.clamd_tmpdir))
        if not local_clamd.running_pid(clamd):  # else it runs already: kept up, not stopped
            local_clamd.start(clamd)
            owned = True
    # The worker leads its own process group: the supervisor stops its scheduler child with it.
    # It runs without Celery's banner (-q) unless this process is verbose (-v).
    child = [sys.executable, "-m", "access_api.cli", "-v" if obj.verbose else "-q",
             "worker", "--beat"]
    supervisor = Supervisor((lambda: subprocess.Popen(child, start_new_session=True))
                            if with_worker else None, clamd, owns_clamd=owned)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    host, port = host or s.host, port or s.port
    process_log_level(obj)
    if not obj.verbose:  # waitress logs "Serving on …": said once below
        logging.getLogger("waitress").setLevel(logging.WARNING)
    click.echo(_("khoso {version} đang chạy tại http://{host}:{port}").format(
        version=__version__, host=host, port=port))
    info(_("  thư mục dữ liệu: {folder}").format(folder=s.data_dir))
    if with_worker:
        info(_("  xử lý công việc: {workers}, kiểm tra định kỳ: {runs}/ngày").format(
            workers=s.workers, runs=s.audit_runs_per_day))
    info(_("  dừng: Ctrl+C"))
    try:
        # waitress refuses bodies over 1 GiB by default: bags are as large as the setting says
        waitress_serve(app, host=host, port=port, threads=8, ident="khoso",
                       max_request_body_size=s.max_upload_bytes)
    except KeyboardInterrupt:  # Ctrl+C is how an operator stops it: no "Aborted!"
        info(_("đã dừng"))
    finally:
        supervisor.stop()


def _exit_with_parent(parent: int) -> Any:
    """For the worker's scheduler child: stop when the worker ``parent`` is gone (SIGKILL
    leaves it orphaned, and a restarted worker starts a scheduler of its own). The pid is
    taken before the fork: a worker killed while the child starts is noticed too."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    def start(**_: Any) -> None:
        threading.Thread(target=watch, daemon=True, name="parent-watch").start()

    return start


@main.command()
@click.option("--concurrency", type=int, default=None, help=N_("Mặc định KHOSO_WORKERS."))
@click.option("--beat/--no-beat", default=False,
              help=N_("Chạy cả lịch kiểm tra định kỳ (chỉ trên một tiến trình xử lý)."))
@click.pass_obj
def worker(obj: Context, concurrency: int | None, beat: bool) -> None:
    """Chạy tiến trình xử lý công việc (Celery)."""
    from access_api.services.wiring import register_worker_tasks
    from preservation.jobs import make_celery

    s = obj.settings
    app = make_celery(s)
    register_worker_tasks(app, s)
    level = _celery_logging(obj)
    pool = "solo" if (concurrency or s.workers) == 1 else "prefork"
    argv = ["worker", "-P", pool, "-c", str(concurrency or s.workers), "-Q", "khoso",
            "--loglevel", level, "-n", "khoso@%h"]
    if obj.quiet:
        argv.insert(0, "--quiet")  # Celery's own option: no banner
    if beat:
        argv += ["-B", "-s", str(s.data_dir / "celerybeat-schedule")]
        from celery import signals

        signals.beat_embedded_init.connect(_exit_with_parent(os.getpid()), weak=False)
    app.worker_main(argv)


@main.command()
@click.pass_obj
def beat(obj: Context) -> None:
    """Chạy riêng lịch kiểm tra định kỳ (đúng một tiến trình cho mỗi hệ thống khi chạy nhiều
    tiến trình xử lý)."""
    from access_api.services.wiring import register_audit
    from preservation.jobs import make_celery

    s = obj.settings
    app = make_celery(s)
    register_audit(app, s)
    level = _celery_logging(obj)
    app.start((["--quiet"] if obj.quiet else [])
              + ["beat", "-s", str(s.data_dir / "celerybeat-schedule"), "--loglevel", level])


def _celery_logging(obj: Context) -> str:
    """khoso's own log handler and format (``KHOSO_LOG_FORMAT``) for a Celery process, with
    Celery's chatter lowered: the task-result line ("Task … succeeded in …s: None") always (the
    worker logs its own line per job), the start-up lines too with ``-q``; ``-v`` keeps all.

    Also drops Celery's warning about running as root: khoso's queue accepts JSON only, and the
    warning is about pickled messages run as root (Celery raises, not warns, when pickle is
    accepted); ``make run`` and containers started as root would print it on every start."""
    import warnings

    from celery import signals
    from celery.exceptions import SecurityWarning

    level = process_log_level(obj)
    # a receiver of setup_logging tells Celery that logging is configured already
    signals.setup_logging.connect(_logging_configured, weak=False)
    warnings.filterwarnings("ignore", category=SecurityWarning,
                            message="You're running the worker with superuser privileges")
    if not obj.verbose:
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
        if obj.quiet:
            logging.getLogger("celery").setLevel(logging.WARNING)
    return level


def _logging_configured(**_: Any) -> None:
    """Celery's ``setup_logging`` receiver: khoso configured logging (``process_log_level``)."""


@main.command()
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.option("--quiet", is_flag=True, help=N_("Chỉ trả mã thoát (dùng cho kiểm tra sức khỏe)."))
@click.pass_obj
def health(obj: Context, as_json: bool, quiet: bool) -> None:
    """Tình trạng danh mục, các vị trí lưu trữ và clamd, như GET /healthz. Mã thoát 0 khi mọi
    thành phần hoạt động (up), 1 khi suy giảm (degraded), 2 khi danh mục ngừng (down)."""
    from access_api.services import health as health_service

    report = health_service.health(obj.services, obj.identity)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    elif not quiet:
        click.echo(_("Tình trạng: {status}").format(status=report["status"]))
        for name, part in report["components"].items():
            for item in part if isinstance(part, list) else [part]:
                label = f"{name}:{item['name']}" if "name" in item else name
                click.echo(f"{label}: {item['status']}"
                           + (f" ({item['detail']})" if item.get("detail") else ""))
        for issue in report["issues"]:
            click.echo(f"{issue['code']}: "
                       + issue["message" if obj.lang == "vi" else "message_en"])
    raise SystemExit(health_service.EXIT_CODES[report["status"]])
