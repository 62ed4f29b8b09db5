"""The ``khoso`` command. Exit codes: 0 success, 1 rejected input (with every problem listed),
2 usage or system error; ``bag validate`` also 3: valid but incomplete (fetch.txt, never fetched)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ingest import local_clamd
from preservation import __version__, signing
from preservation.accounts import ensure_first_admin
from preservation.catalog import registry
from preservation.catalog.db import Catalog
from preservation.errors import KhosoError, ValidationFailed
from preservation.settings import Settings, documented, load_settings


@dataclass
class Context:
    lang: str
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    def catalog(self) -> Catalog:
        return Catalog(self.settings.database_url)


def fail(ctx: Context, exc: KhosoError) -> None:
    other = "en" if ctx.lang == "vi" else "vi"
    click.echo(f"Lỗi / Error [{exc.code}]: {exc.message(ctx.lang)}", err=True)
    click.echo(f"  ({exc.message(other)})", err=True)
    if isinstance(exc, ValidationFailed):
        for issue in exc.report.issues:
            click.echo(f"  - [{issue.code}] {issue.path}: {issue.message(ctx.lang)}", err=True)
        raise SystemExit(1)
    raise SystemExit(2)


class KhosoGroup(click.Group):
    """Turns domain errors into a bilingual message and exit code 2 instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KhosoError as exc:
            obj = ctx.obj if isinstance(ctx.obj, Context) else Context("vi")
            fail(obj, exc)


@click.group(cls=KhosoGroup)
@click.version_option(__version__, prog_name="khoso")
@click.option("--lang", type=click.Choice(["vi", "en"]), default=None,
              help="Ngôn ngữ thông báo / message language.")
@click.pass_context
def main(ctx: click.Context, lang: str | None) -> None:
    """khoso — kho lưu trữ số (digital archival repository, TT 05/2025/TT-BNV)."""
    ctx.obj = Context(lang or "vi")
    if lang is None:
        try:
            ctx.obj.lang = ctx.obj.settings.language
        except KhosoError:
            pass  # reported by the command that needs the settings


def keep_log(obj: Context, catalog: Catalog) -> None:
    """Copy the new audit-log entries next to the AIPs (best effort, ``services.mirror_log``):
    a catalog rebuilt later still shows who did what."""
    from access_api.services import build_storages, mirror_log

    try:
        mirror_log(obj.settings, catalog, list(build_storages(obj.settings).values()))
    except Exception as exc:  # noqa: BLE001 - the command itself is done and committed
        click.echo(f"Cảnh báo / warning: audit log not copied to storage: {exc}", err=True)


def echo_rows(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    if not rows:
        click.echo("(không có dữ liệu / no rows)")
        return
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(str(r[k] or "")) for r in rows)) for k in keys}
    click.echo("  ".join(k.ljust(widths[k]) for k in keys))
    for r in rows:
        click.echo("  ".join(str(r[k] or "").ljust(widths[k]) for k in keys))


@main.command()
@click.pass_obj
def init(obj: Context) -> None:
    """Khởi tạo thư mục dữ liệu, danh mục, bản sao, clamd và tài khoản quản trị đầu tiên."""
    s = obj.settings
    s.data_dir.mkdir(parents=True, exist_ok=True)
    for loc in s.storage_locations:
        if loc.scheme == "file":
            loc.path.mkdir(parents=True, exist_ok=True)
    if s.clamd_managed:
        local_clamd.configure(s.clamd_dir, tmpdir=Path(s.clamd_tmpdir))
        if not local_clamd.official_database():
            click.echo("Cảnh báo: chưa có cơ sở dữ liệu chữ ký virus chính thức trong /var/lib/clamav; "
                       "clamd chỉ nhận biết mẫu thử EICAR. / Warning: no official ClamAV database.")
    keys = Path(s.keys_dir)
    if not (keys / signing.KEY_FILE).exists():
        signing.init_keys(keys, s.archive_name, s.archive_code)
        click.echo(f"Đã tạo khóa ký tự cấp cho AIP / self-signed AIP signing key: {keys}")
    Path(s.trust_dir).mkdir(parents=True, exist_ok=True)
    catalog = obj.catalog()
    catalog.upgrade()
    with catalog.session() as session:
        registry.ensure_archive_body(session, s.archive_code, s.archive_name, s.archive_kind)
        admin = ensure_first_admin(session)
    catalog.dispose()
    click.echo(f"Đã khởi tạo / initialised: {s.data_dir}")
    if admin:
        click.echo("Tài khoản quản trị đầu tiên (chỉ hiển thị một lần) / first admin account "
                   f"(shown once): {admin[0]} / {admin[1]}")


@main.group()
def db() -> None:
    """Cơ sở dữ liệu danh mục / catalog database."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def db_upgrade(obj: Context, revision: str) -> None:
    """Nâng cấp lược đồ danh mục (Alembic) / migrate the catalog schema."""
    catalog = obj.catalog()
    catalog.upgrade(revision)
    click.echo(f"Phiên bản lược đồ / schema revision: {catalog.ping()}")
    catalog.dispose()


@main.command()
@click.option("--host", default=None, help="Mặc định KHOSO_HOST / default KHOSO_HOST.")
@click.option("--port", type=int, default=None, help="Mặc định KHOSO_PORT / default KHOSO_PORT.")
@click.option("--worker/--no-worker", "with_worker", default=True, show_default=True,
              help="Chạy kèm một tiến trình xử lý công việc và lịch kiểm tra / also run a job "
                   "worker with the scheduler (scaled out: --no-worker, plus `khoso worker` and "
                   "one `khoso beat`).")
@click.pass_obj
def serve(obj: Context, host: str | None, port: int | None, with_worker: bool) -> None:
    """Chạy dịch vụ web / run the web service (and the managed local clamd)."""
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
    supervisor = Supervisor((lambda: subprocess.Popen(
        [sys.executable, "-m", "access_api.cli", "worker", "--beat"], start_new_session=True))
        if with_worker else None, clamd, owns_clamd=owned)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    host, port = host or s.host, port or s.port
    click.echo(f"khoso {__version__} đang chạy tại / serving on http://{host}:{port}")
    try:
        waitress_serve(app, host=host, port=port, threads=8, ident="khoso")
    finally:
        supervisor.stop()


@main.group()
def agency() -> None:
    """Cơ quan nộp lưu / submitting agencies."""


@agency.command("add")
@click.argument("organ_id")
@click.argument("name")
@click.option("--address")
@click.option("--email")
@click.pass_obj
def agency_add(obj: Context, organ_id: str, name: str, address: str | None,
               email: str | None) -> None:
    """Thêm cơ quan theo mã định danh / add an agency by its identifier."""
    catalog = obj.catalog()
    with catalog.session() as session:
        registry.add_agency(session, organ_id, name, address=address, contact_email=email,
                            actor="cli")
    keep_log(obj, catalog)
    click.echo(f"Đã thêm cơ quan / agency added: {organ_id}")


@agency.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def agency_list(obj: Context, as_json: bool) -> None:
    """Danh sách cơ quan / list agencies."""
    with obj.catalog().session() as session:
        rows = [{"organ_id": a.organ_id, "name": a.name, "address": a.address}
                for a in registry.list_agencies(session)]
    echo_rows(rows, as_json)


@main.group()
def fonds() -> None:
    """Phông lưu trữ / fonds."""


@fonds.command("add")
@click.argument("fond_code")
@click.argument("fond_name")
@click.option("--status", default="mở", show_default=True, help="đóng | mở")
@click.option("--history", "fond_history", help="Lịch sử đơn vị hình thành phông.")
@click.option("--time", "archives_time", help="Thời gian tài liệu, e.g. 1946-1975.")
@click.option("--total-doc", help="Tổng số tài liệu.")
@click.option("--scheme", "classification_scheme", help="Phương án phân loại / nhóm tài liệu chủ yếu.")
@click.option("--language", "languages", multiple=True, default=["01"], show_default=True,
              help="Mã ngôn ngữ TT 05 (01–11), repeatable.")
@click.option("--risk-recovery/--no-risk-recovery", default=False, help="Chế độ dự phòng.")
@click.option("--description", help="Ghi chú.")
@click.option("--agency", "organ_id", help="Mã định danh cơ quan hình thành phông.")
@click.pass_obj
def fonds_add(obj: Context, **fields: Any) -> None:
    """Thêm phông lưu trữ (10 trường TT 05) / add a fonds."""
    s = obj.settings
    catalog = obj.catalog()
    data = registry.FondsInput(**{**fields, "languages": list(fields["languages"])})
    with catalog.session() as session:
        body = registry.ensure_archive_body(session, s.archive_code, s.archive_name,
                                            s.archive_kind)
        registry.add_fonds(session, body, data, actor="cli")
    from access_api.services import mirror_fonds

    mirror_fonds(s, catalog, fields["fond_code"])
    keep_log(obj, catalog)
    click.echo(f"Đã thêm phông / fonds added: {fields['fond_code']}")


@fonds.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def fonds_list(obj: Context, as_json: bool) -> None:
    """Danh sách phông / list fonds."""
    with obj.catalog().session() as session:
        rows = [{"fond_code": f.fond_code, "fond_name": f.fond_name,
                 "status": "đóng" if f.status == "dong" else "mở",
                 "archives_time": f.archives_time, "languages": ";".join(f.languages),
                 "archive": f.archive_body.code}
                for f in registry.list_fonds(session)]
    echo_rows(rows, as_json)


@main.command("settings")
def settings_cmd() -> None:
    """Các biến môi trường KHOSO_* và giá trị mặc định / settings and defaults."""
    for name, default, doc in documented():
        click.echo(f"{name}={default}\n    {doc}")


@main.group()
def keys() -> None:
    """Khóa ký của cơ quan lưu trữ / the archive's signing key."""


@keys.command("init")
@click.option("--force", is_flag=True, help="Thay khóa hiện có / replace the existing key.")
@click.pass_obj
def keys_init(obj: Context, force: bool) -> None:
    """Tạo khóa và chứng thư tự ký / make a self-signed key and certificate."""
    s = obj.settings
    signer = signing.init_keys(Path(s.keys_dir), s.archive_name, s.archive_code, force=force)
    click.echo(f"Đã tạo khóa ký / signing key created: {signer.subject} ({s.keys_dir})")


@main.group()
def bag() -> None:
    """Túi BagIt / BagIt bags."""


@bag.command("validate")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--profile", "profile_name", default="sip-tt05", show_default=True,
              help="Hồ sơ BagIt trong profiles/, hoặc 'none' để chỉ kiểm tra RFC 8493.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def bag_validate(obj: Context, path: Path, profile_name: str, as_json: bool) -> None:
    """Kiểm tra túi BagIt hoặc gói TT 05 không có BagIt (thư mục, .zip, .tar, .tar.gz) / validate
    a bag or a TT 05 package without BagIt.

    Exit 0 valid, 1 invalid, 3 valid but incomplete (files listed in fetch.txt are absent).
    """
    from access_api.bagcheck import check_bag
    from ingest.unbagged import SubmissionForm

    report, summary = check_bag(path, None if profile_name == "none" else profile_name)
    incomplete = report.ok and not summary["complete"]
    if as_json:
        click.echo(json.dumps({**summary, **report.to_dict()}, ensure_ascii=False, indent=2))
    else:
        for issue in report.issues:
            click.echo(f"[{issue.code}] {issue.severity.value}: {issue.path or path}: "
                       f"{issue.message(obj.lang)}")
        if incomplete:
            verdict = "hợp lệ nhưng chưa đầy đủ / valid but incomplete"
        else:
            verdict = "hợp lệ / valid" if report.ok else "không hợp lệ / invalid"
        form = SubmissionForm(summary["form"]) if summary.get("form") else None
        seen = (f"{form.label('vi')} / {form.label('en')}" if form
                else "không nhận ra / not recognised")
        click.echo(f"{path}: {seen}: {verdict} "
                   f"({summary['files']} tệp/files, {summary['bytes']} byte)")
        absent = [e for e in summary["fetch"] if not e["present"]]
        if absent:
            click.echo("Cần tải (khoso không tự tải) / to fetch (khoso never fetches):")
            for e in absent:
                size = "chưa rõ / unknown" if e["length"] is None else e["length"]
                click.echo(f"  {e['path']} <- {e['url']} ({size} byte)")
    raise SystemExit(3 if incomplete else 0 if report.ok else 1)


def _progress_printer() -> Any:
    if not sys.stderr.isatty():
        return None
    state: dict[str, Any] = {}

    def show(stage: str, done: int, total: int) -> None:
        bar = state.get(stage)
        if bar is None:
            for old in state.values():
                old.render_finish()
            bar = state[stage] = click.progressbar(length=total, label=stage.ljust(16),
                                                   file=sys.stderr)
        bar.update(done - bar.pos)

    return show


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--wait", is_flag=True,
              help="Chạy ngay trong tiến trình này và chờ kết quả / run here and wait.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def ingest(obj: Context, path: Path, wait: bool, as_json: bool) -> None:
    """Nộp lưu một túi SIP / ingest a SIP bag. Exit 0 accepted, 1 rejected, 2 error."""
    from ingest.jobs import create_job, run_job, submit
    from preservation.jobs import make_celery

    if not path.exists():
        raise click.UsageError(f"không tìm thấy / not found: {path}")
    s = obj.settings
    catalog = obj.catalog()
    if not wait:
        job_id = submit(catalog, make_celery(s), path, "cli")
        out = {"job_id": job_id, "status": "queued"}
        click.echo(json.dumps(out) if as_json else f"Đã xếp hàng / queued: job {job_id}")
        return
    from access_api.services import build_services
    from ingest.jobs import retry_later

    started = None
    if s.clamd_managed:  # no `khoso serve` runs the local clamd: run it for this ingest
        local = local_clamd.configure(s.clamd_dir, tmpdir=Path(s.clamd_tmpdir))
        if not local_clamd.running_pid(local):
            local_clamd.start(local)
            started = local
    job_id = create_job(catalog, path, "cli", lease=float(s.job_visibility_timeout))
    try:
        outcome = run_job(s, catalog, job_id, services=build_services(s),
                          progress=None if as_json else _progress_printer())
    except KhosoError as exc:
        transient = getattr(exc, "transient", False)
        if transient:  # the archive's fault: queued for a worker
            retry_later(catalog, make_celery(s), job_id)
            click.echo(f"Công việc / job {job_id}: vẫn trong hàng đợi / still queued", err=True)
        if as_json:  # a script reads the outcome on stdout whatever it was
            click.echo(json.dumps({"accepted": False, "job_id": job_id,
                                   "status": "queued" if transient else "failed",
                                   "retry": transient, "error": exc.issue.to_dict()},
                                  ensure_ascii=False, indent=2))
        raise
    finally:
        if started is not None:
            local_clamd.stop(started)
    if outcome is None:  # cannot happen to a job created here; say so rather than crash
        raise KhosoError("GEN005", detail=f"job {job_id} was taken by another worker")
    if as_json:
        click.echo(json.dumps(outcome.to_dict(), ensure_ascii=False, indent=2))
    elif outcome.accepted:
        click.echo(f"Đã tiếp nhận / accepted: {outcome.objid} (job {job_id})")
        for issue in outcome.report.issues:
            click.echo(f"  [{issue.code}] {issue.path}: {issue.message(obj.lang)}")
    else:
        click.echo(f"Từ chối / rejected at {outcome.failed_step} (job {job_id}); "
                   f"quarantine: {outcome.quarantine}", err=True)
        for issue in outcome.report.issues:
            click.echo(f"  [{issue.code}] {issue.severity.value} {issue.path}: "
                       f"{issue.message(obj.lang)}", err=True)
    raise SystemExit(0 if outcome.accepted else 1)


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
@click.option("--concurrency", type=int, default=None, help="Mặc định KHOSO_WORKERS.")
@click.option("--beat/--no-beat", default=False,
              help="Chạy cả lịch kiểm tra định kỳ (một tiến trình duy nhất) / also run the "
                   "scheduler of periodic audits (on one worker only).")
@click.pass_obj
def worker(obj: Context, concurrency: int | None, beat: bool) -> None:
    """Chạy tiến trình xử lý công việc (Celery) / run a job worker."""
    from access_api.services import build_services, build_storages
    from ingest.jobs import register_tasks
    from preservation.jobs import make_celery
    from storage.jobs import register_audit_task

    s = obj.settings
    app = make_celery(s)

    def discard(job_id: str) -> int:
        from storage.staging import discard as discard_staged

        return discard_staged(list(build_storages(s).values()), job_id)

    register_tasks(app, s, build_services, discard)
    register_audit_task(app, s, build_storages)
    pool = "solo" if (concurrency or s.workers) == 1 else "prefork"
    argv = ["worker", "-P", pool, "-c", str(concurrency or s.workers), "-Q", "khoso",
            "--loglevel", s.log_level, "-n", "khoso@%h"]
    if beat:
        argv += ["-B", "-s", str(s.data_dir / "celerybeat-schedule")]
        from celery import signals

        signals.beat_embedded_init.connect(_exit_with_parent(os.getpid()), weak=False)
    app.worker_main(argv)


@main.command()
@click.pass_obj
def beat(obj: Context) -> None:
    """Chạy lịch kiểm tra định kỳ (chỉ một tiến trình) / run the scheduler of periodic audits
    alone (exactly one per installation when workers are scaled out)."""
    from access_api.services import build_storages
    from preservation.jobs import make_celery
    from storage.jobs import register_audit_task

    s = obj.settings
    app = make_celery(s)
    register_audit_task(app, s, build_storages)
    app.start(["beat", "-s", str(s.data_dir / "celerybeat-schedule"), "--loglevel", s.log_level])


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--quiet", is_flag=True, help="Chỉ mã thoát / exit code only (health checks).")
@click.pass_obj
def health(obj: Context, as_json: bool, quiet: bool) -> None:
    """Tình trạng danh mục, các vị trí lưu trữ và clamd, như GET /healthz / component health.
    Exit 0 when all are up, 1 otherwise."""
    from access_api.health import health as component_health

    report = component_health(obj.settings, obj.catalog())
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    elif not quiet:
        for name, part in report["components"].items():
            for item in part if isinstance(part, list) else [part]:
                label = f"{name}:{item['name']}" if "name" in item else name
                click.echo(f"{label}: {item['status']}"
                           + (f" ({item['detail']})" if item.get("detail") else ""))
    raise SystemExit(0 if report["status"] == "ok" else 1)


@main.group()
def sip() -> None:
    """Gói nộp lưu SIP / submission packages."""


@sip.command("build")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--metadata", "sheet", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Bảng siêu dữ liệu CSV, XLSX hoặc JSON / metadata sheet.")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Thư mục túi BagIt sẽ tạo (chưa tồn tại) / bag folder to create.")
@click.option("--organ-id", required=True, help="Mã định danh cơ quan nộp lưu.")
@click.option("--agency-name", required=True, help="Tên cơ quan nộp lưu.")
@click.option("--fond", "fond_code", required=True, help="Mã phông.")
@click.option("--agreement", help="Mã đăng ký yêu cầu nộp (SUBMISSIONAGREEMENT).")
@click.pass_obj
def sip_build(obj: Context, src: Path, sheet: Path, out: Path, organ_id: str, agency_name: str,
              fond_code: str, agreement: str | None) -> None:
    """Tạo túi SIP theo TT 05 từ thư mục tệp và bảng siêu dữ liệu / build a SIP bag."""
    from ingest.sip_build import build_sip

    bag_path = build_sip(src, sheet, out, organ_id=organ_id, agency_name=agency_name,
                         fond_code=fond_code, submission_agreement=agreement)
    click.echo(f"Đã tạo túi SIP / SIP bag built: {bag_path}")


@main.command()
@click.option("--due/--all", "due_only", default=True, show_default=True,
              help="Chỉ các bản sao đến hạn, hoặc tất cả / only copies due, or all.")
@click.option("--location", help="Chỉ một vị trí lưu trữ / one storage location.")
@click.option("--repair", is_flag=True, help="Sửa bản sao hỏng từ bản tốt / repair bad copies.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def audit(obj: Context, due_only: bool, location: str | None, repair: bool,
          as_json: bool) -> None:
    """Kiểm tra tính toàn vẹn các bản sao / fixity audit. Exit 0 all good, 1 problems found."""
    from access_api.services import build_storages, mirror_log
    from storage.audit import run_audit

    s = obj.settings
    if location:
        s.location(location)  # CFG002 for an unknown name
    catalog, storages = obj.catalog(), build_storages(s)
    report = run_audit(catalog, storages, due_only=due_only, location=location,
                       repair=repair, period_days=s.audit_period_days, actor="cli",
                       progress=None if as_json else _progress_printer())
    mirror_log(s, catalog, list(storages.values()))
    data = report.to_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(f"Đã kiểm tra / checked: {data['copies_checked']} bản sao/copies, "
                   f"tốt/ok {data['ok']}, hỏng/bad {data['bad']}, "
                   f"chưa kiểm tra được/not checked {data['not_checked']}, "
                   f"đối tượng đã sửa/objects repaired {data['repaired']}, "
                   f"nguy cấp/critical {len(data['critical'])}")
    problems = (data["critical"] or data["not_checked"] or data["unrepaired"]
                or (data["bad"] and not repair) or data["foreign_files"]
                or data["history_unrestored"])
    raise SystemExit(1 if problems else 0)


@main.group()
def report() -> None:
    """Báo cáo, sổ sách / reports and registers."""


@report.command("register")
@click.argument("name", type=click.Choice(["nhat_ky_sao_luu", "bien_ban_kiem_tra",
                                            "bien_ban_xu_ly_su_co"]))
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Từ ngày / from (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Đến ngày / until.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Tệp kết quả (mặc định in ra màn hình) / output file.")
@click.pass_obj
def report_register(obj: Context, name: str, since, until, fmt: str, out: Path | None) -> None:
    """Sổ nhật ký sao lưu, biên bản kiểm tra, biên bản xử lý sự cố (TT 05 Phụ lục VII)."""
    import datetime as dt

    from storage.registers import build_register, write_register

    since = since.replace(tzinfo=dt.UTC) if since else None
    until = until.replace(tzinfo=dt.UTC) if until else None
    with obj.catalog().session() as session:
        rows = build_register(session, name, since=since, until=until)
    if out is None:
        write_register(name, rows, sys.stdout, fmt=fmt, since=since, until=until)
    else:
        with out.open("w", encoding="utf-8", newline="") as f:
            write_register(name, rows, f, fmt=fmt, since=since, until=until)
        click.echo(f"Đã ghi / written: {out} ({len(rows)} dòng/rows)")


@main.group("catalog")
def catalog_group() -> None:
    """Danh mục / the catalog."""


@catalog_group.command("rebuild")
@click.option("--from", "location", help="Vị trí đọc trước tiên / preferred source location "
              "(mọi vị trí đều được đọc / every location is read).")
@click.option("--verify", is_flag=True, help="Băm lại mọi đối tượng / re-hash every object.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def catalog_rebuild(obj: Context, location: str | None, verify: bool, as_json: bool) -> None:
    """Dựng lại toàn bộ danh mục (trống) từ mọi vị trí lưu trữ / rebuild an empty catalog from
    every storage location; run again on a catalog left incomplete, it adds what is missing."""
    from storage.locations import open_storage
    from storage.rebuild import rebuild_catalog
    from storage.sidecar_log import mirror_audit_log

    s = obj.settings
    preferred = s.location(location) if location else None
    storages = [open_storage(loc) for loc in
                ([preferred] if preferred else []) +
                [loc for loc in s.storage_locations if preferred is None or loc.name != preferred.name]]
    catalog = obj.catalog()
    catalog.upgrade()
    result = rebuild_catalog(catalog, storages, archive_code=s.archive_code, verify=verify,
                             progress=None if as_json else _progress_printer(),
                             quarantine_dir=s.data_dir / "quarantine")
    mirror_audit_log(catalog, storages, s.archive_code)  # the rebuild's own entry
    data = result.to_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(json.dumps({k: v for k, v in data.items() if k != "problems"},
                              ensure_ascii=False, default=str))
        for problem in data.get("problems", []):
            click.echo(f"  [{problem['code']}] {problem['path']}: {problem['message']}", err=True)
    errors = [p for p in data.get("problems", []) if p.get("severity") == "error"]
    raise SystemExit(1 if data.get("aips_skipped") or errors or not data["complete"] else 0)


@main.group()
def aip() -> None:
    """Gói lưu trữ (AIP) / archival packages."""


@aip.command("update-metadata")
@click.argument("objid")
@click.option("--ead", "ead_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="EAD hồ sơ đã sửa / corrected package EAD.xml.")
@click.option("--doc", "docs", multiple=True, metavar="NAME=FILE",
              help="EAD tài liệu đã sửa, e.g. EAD_doc_a.xml=./fixed.xml (lặp lại / repeatable).")
@click.option("--reason", required=True, help="Lý do sửa / reason for the change.")
@click.pass_obj
def aip_update_metadata(obj: Context, objid: str, ead_file: Path | None, docs: tuple[str, ...],
                        reason: str) -> None:
    """Tạo phiên bản AIP mới chỉ chứa siêu dữ liệu đã sửa / new AIP version for corrected
    metadata (content files are never rewritten; older versions stay readable)."""
    from access_api.services import build_storages
    from ingest.versions import new_metadata_version
    from preservation.events import REPLICATION, Event, Outcome
    from storage.errors import StorageError
    from storage.replication import replicate
    from storage.sidecar import append_events_everywhere, event_record

    s = obj.settings
    storages = list(build_storages(s).values())

    def read(key: str) -> bytes:
        last: KhosoError | None = None
        for storage in storages:
            try:
                with storage.open(key) as f:
                    return f.read()
            except StorageError as exc:
                last = exc
        raise last or KhosoError("VER009", key, path=key, version="?", reason="no location")

    document_eads = {}
    for item in docs:
        name, sep, file = item.partition("=")
        if not sep or not Path(file).is_file():
            raise click.BadParameter(f"{item!r}: NAME=FILE", param_hint="--doc")
        document_eads[name] = Path(file).read_bytes()
    catalog = obj.catalog()
    outcome = new_metadata_version(
        s, catalog, objid=objid, package_ead=ead_file.read_bytes() if ead_file else None,
        document_eads=document_eads, reason=reason, actor="cli",
        replicate=lambda objects, progress=None: replicate(objects, storages, progress=progress),
        signer=signing.load_signer(Path(s.keys_dir)), read=read)
    if not outcome.accepted:
        raise ValidationFailed(outcome.report, "VER010")
    from preservation.catalog.models import Package
    from storage.sidecar import iso

    with catalog.session() as session:  # the registration time, for a rebuild to keep it
        created = session.get(Package, outcome.package_id).created_at
    records = [{**event_record(Event(REPLICATION, Outcome.SUCCESS, f"key={outcome.key_prefix}",
                                     object_identifier=objid), objid=objid, link_copy=False,
                               copy={"location": st.name, "key": outcome.key_prefix}),
                "package_created_at": iso(created)}
               for st in storages]
    append_events_everywhere(storages, outcome.key_prefix, records)
    from access_api.services import mirror_log

    mirror_log(s, catalog, storages)
    click.echo(f"{objid} v{outcome.version}: {outcome.key_prefix} "
               f"({len(outcome.written)} tệp / files)")


@main.group()
def user() -> None:
    """Tài khoản và mã truy cập API / accounts and API tokens."""


@user.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              help="admin | archivist | preservation_officer | submitter | reader")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.pass_obj
def user_add(obj: Context, username: str, roles: tuple[str, ...], password: str) -> None:
    """Thêm tài khoản / add an account."""
    from preservation.accounts import create_user

    catalog = obj.catalog()
    with catalog.session() as session:
        create_user(session, username, password, list(roles), actor="cli")
    keep_log(obj, catalog)
    click.echo(f"Đã thêm tài khoản / account added: {username}")


@user.command("token")
@click.argument("username")
@click.option("--name", default="api", show_default=True)
@click.pass_obj
def user_token(obj: Context, username: str, name: str) -> None:
    """Cấp mã truy cập API (chỉ hiển thị một lần) / issue an API token (shown once)."""
    import sqlalchemy as sa

    from preservation.accounts import issue_token
    from preservation.catalog.models import User
    from preservation.errors import NotFound

    catalog = obj.catalog()
    with catalog.session() as session:
        account = session.scalar(sa.select(User).where(User.username == username))
        if account is None:
            raise NotFound("GEN002", what="User", key=username)
        issued = issue_token(session, account, name, actor="cli")
    keep_log(obj, catalog)
    click.echo(issued.token)


if __name__ == "__main__":
    main()
