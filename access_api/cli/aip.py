"""Archival packages: list, show, new versions."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from access_api.cli.base import Context, echo_rows, info, main
from access_api.i18n import N_, _
from access_api.services import versions
from access_api.services.aips import EventView


@main.group()
def aip() -> None:
    """Gói lưu trữ (AIP)."""


@aip.command("update-metadata")
@click.argument("objid")
@click.option("--ead", "ead_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=N_("EAD.xml của hồ sơ đã sửa."))
@click.option("--doc", "docs", multiple=True, metavar="NAME=FILE",
              help=N_("EAD của tài liệu đã sửa, ví dụ EAD_doc_a.xml=./da-sua.xml (lặp lại được)."))
@click.option("--reason", required=True, help=N_("Lý do sửa."))
@click.pass_obj
def aip_update_metadata(obj: Context, objid: str, ead_file: Path | None, docs: tuple[str, ...],
                        reason: str) -> None:
    """Tạo phiên bản AIP mới chỉ chứa siêu dữ liệu đã sửa (tệp nội dung không bao giờ bị ghi
    lại; các phiên bản cũ vẫn đọc được)."""
    document_eads = {}
    for item in docs:
        name, sep, file = item.partition("=")
        if not sep or not Path(file).is_file():
            raise click.BadParameter(f"{item!r}: NAME=FILE", param_hint="--doc")
        document_eads[name] = Path(file).read_bytes()
    outcome = versions.update_metadata(
        obj.services, obj.identity, objid,
        package_ead=ead_file.read_bytes() if ead_file else None,
        document_eads=document_eads, reason=reason)
    click.echo(_("{objid} v{version}: {key} ({files} tệp)").format(
        objid=objid, version=outcome.version, key=outcome.key_prefix,
        files=len(outcome.written)))


def _when(value: object) -> str:
    return value.isoformat(timespec="seconds") if isinstance(value, dt.datetime) else ""


@aip.command("list")
@click.option("--limit", type=click.IntRange(1), default=1000, show_default=True,
              help=N_("Số gói mới nhất in ra tối đa."))
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def aip_list(obj: Context, limit: int, as_json: bool) -> None:
    """Các gói lưu trữ, mỗi gói một dòng (phiên bản mới nhất)."""
    from access_api.services.aips import list_aips
    from access_api.services.base import Identity, ServiceContext

    rows = list_aips(ServiceContext(obj.settings), Identity.system(), limit=limit)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], ensure_ascii=False, indent=2,
                              default=str))
        return
    echo_rows([{"objid": r.objid, "version": r.version, "versions": r.versions,
                "status": r.status, "critical": "!" if r.critical else "",
                "copies_ok": f"{r.copies_ok}/{r.copies}", "files": r.file_count,
                "bytes": r.total_size, "created_at": _when(r.created_at),
                "label": r.label or ""} for r in rows], False)


@aip.command("show")
@click.argument("objid")
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def aip_show(obj: Context, objid: str, as_json: bool) -> None:
    """Các phiên bản, bản sao (lần kiểm tra cuối) và dòng thời gian PREMIS của một gói."""
    from access_api.services.aips import show_aip
    from access_api.services.base import Identity, ServiceContext

    detail = show_aip(ServiceContext(obj.settings), Identity.system(), objid)
    if as_json:
        click.echo(json.dumps(detail.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    click.echo(f"{detail.objid}: {detail.label or ''}"
               + ("  [" + _("NGUY CẤP") + "]" if detail.critical else ""))
    for v in detail.versions:
        click.echo(_("v{version} {status} {created} ({files} tệp, {size} byte)").format(
            version=v.version, status=v.status, created=_when(v.created_at),
            files=v.file_count, size=v.total_size))
        for c in v.copies:
            click.echo(f"  {c.location}  {c.key}  {c.status}  {_when(c.checked_at)}")
    info(_("Dòng thời gian PREMIS:"))
    for first, count in _runs(detail.timeline):
        where = " ".join(filter(None, (f"v{first.version}", first.location,
                                       first.object if count == 1 else f"×{count}")))
        click.echo(f"  {_when(first.time)}  {first.type}  {first.outcome}  "
                   f"{', '.join(first.agents)}  {where}")


def _runs(timeline: tuple[EventView, ...]) -> list[tuple[EventView, int]]:
    """Consecutive events alike but for their object (one virus check per file) as one line
    with their count: a 10,000-file AIP's timeline stays readable (``--json`` has them all)."""
    runs: list[tuple[EventView, int]] = []
    for e in timeline:
        if runs:
            last, count = runs[-1]
            if (last.type, last.outcome, last.agents, last.version, last.location) == (
                    e.type, e.outcome, e.agents, e.version, e.location):
                runs[-1] = (last, count + 1)
                continue
        runs.append((e, 1))
    return runs


@aip.command("reservations")
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def aip_reservations(obj: Context, as_json: bool) -> None:
    """Các phiên bản AIP đang lập dở: tiến trình giữ chỗ, từ lúc nào, còn sống hay đã chết
    (phiên bản của tiến trình đã chết được thu hồi ở lần sửa sau, hoặc bằng aip take-back)."""
    from access_api.services.base import ServiceContext
    from access_api.services.version_reservations import reservations

    echo_rows([r.to_dict() for r in reservations(ServiceContext(obj.settings))], as_json)


@aip.command("take-back")
@click.argument("objid")
@click.argument("version", type=click.IntRange(2))
@click.pass_obj
def aip_take_back(obj: Context, objid: str, version: int) -> None:
    """Thu hồi một phiên bản đang lập dở mà tiến trình giữ chỗ đã chết: xoá các đối tượng đã
    ghi dưới phiên bản đó ở mọi vị trí lưu trữ và dòng đăng ký, ghi nhật ký kiểm tra. Từ chối
    khi tiến trình còn chạy (VER021)."""
    from access_api.services.base import ServiceContext
    from access_api.services.version_reservations import take_back

    removed = take_back(ServiceContext(obj.settings), obj.identity, objid, version)
    click.echo(_("{objid} v{version}: đã thu hồi ({removed} đối tượng đã xoá)").format(
        objid=objid, version=version, removed=removed))
