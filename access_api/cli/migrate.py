"""Preservation actions: the format register and format migration."""

from __future__ import annotations

import json

import click

from access_api.cli.base import Context, echo_rows, main
from access_api.i18n import N_, _
from access_api.services import formats as formats_service
from access_api.services import migration
from preservation.catalog.vocab import MigrationOutcome


@main.command("formats")
@click.option("--fonds", metavar="FOND_CODE", help=N_("Chỉ một phông."))
@click.option("--at-risk", is_flag=True,
              help=N_("Chỉ các định dạng chính sách cảnh báo (FMT005)."))
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def formats(obj: Context, fonds: str | None, at_risk: bool, as_json: bool) -> None:
    """Sổ định dạng: các định dạng kho đang giữ theo phông, định dạng có nguy cơ và cách
    chuyển đổi."""
    held = formats_service.register(obj.services, obj.identity, fonds=fonds, at_risk=at_risk)
    if as_json:
        click.echo(json.dumps(held.to_dict(), ensure_ascii=False, indent=2))
        return
    echo_rows([{"PUID": f.puid or "?", _("định dạng"): f.format_name, _("tệp"): f.files,
                _("byte"): f.bytes,
                _("phông"): ", ".join(f"{c.fond_code}:{c.files}" for c in f.fonds),
                _("chính sách"): _("cảnh báo") if f.at_risk else f.decision,
                _("chuyển đổi sang"): f.migrate_to or "-"} for f in held.formats], False)


@main.command("migrate")
@click.option("--puid", required=True, metavar="PUID",
              help=N_("Mã PRONOM cần chuyển đổi, ví dụ fmt/276."))
@click.option("--dry-run", is_flag=True,
              help=N_("Chỉ liệt kê các AIP và tệp sẽ được chuyển đổi."))
@click.option("--now", "run_now", is_flag=True,
              help=N_("Chuyển đổi ngay trong tiến trình này thay vì xếp công việc cho worker."))
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def migrate(obj: Context, puid: str, dry_run: bool, run_now: bool, as_json: bool) -> None:
    """Chuyển đổi định dạng mọi AIP đang giữ PUID này thành phiên bản AIP mới (bản gốc giữ
    nguyên), mỗi AIP một công việc. Mã thoát 0: thành công; 1: có tệp không chuyển đổi được."""
    batch = migration.queue_migrations(obj.services, obj.identity, puid,
                                       dry_run=dry_run or run_now)
    results = []
    if run_now and not dry_run:
        results = [migration.migrate_aip(obj.services, obj.identity, h.objid, [puid])
                   for h in batch.aips if h.files]
    if as_json:
        click.echo(json.dumps({**batch.to_dict(), "results": [r.to_dict() for r in results]},
                              ensure_ascii=False, indent=2))
    else:
        _echo(obj, batch, results, dry_run)
    raise SystemExit(1 if any(r.failed for r in results) else 0)


def _echo(obj: Context, batch: migration.MigrationBatch, results: list[migration.AipMigration],
          dry_run: bool) -> None:
    todo = [h for h in batch.aips if h.files]
    click.echo(_("{puid} → {target}: {aips} AIP cần chuyển đổi ({files} tệp), {done} AIP đã "
                 "chuyển đổi trước đó").format(
        puid=batch.puid, target=batch.target.value, aips=len(todo),
        files=sum(len(h.files) for h in todo),
        done=sum(1 for h in batch.aips if not h.files)))
    for h in todo:
        if dry_run:
            click.echo(f"  {h.objid}: " + ", ".join(h.files))
        elif h.job:
            click.echo(_("  {objid}: công việc {job}").format(objid=h.objid, job=h.job))
    for r in results:
        if r.outcome == MigrationOutcome.MIGRATED:
            click.echo(_("  {objid}: phiên bản v{version}, {count} tệp đã chuyển đổi").format(
                objid=r.objid, version=r.version, count=len(r.migrated)))
        for issue in r.failed:
            message = issue["message"] if obj.lang == "vi" else issue["message_en"]
            click.echo(f"  {r.objid}: [{issue['code']}] {message}", err=True)
