"""Hủy tài liệu hết giá trị from the server's terminal: the appraisal scan, the Danh mục, legal
holds and executing an approved case. Proposing a case, the council's opinions and the signed
decision go through the API, where each is done by a named account."""

from __future__ import annotations

import json

import click

from access_api.cli.base import Context, echo_rows, info, main
from access_api.i18n import N_, _
from access_api.services.disposal import appraisal, execution, holds


@main.group()
def disposal() -> None:
    """Hủy tài liệu hết giá trị: rà soát, danh mục, phong tỏa, thực hiện hủy."""


@disposal.command("scan")
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def disposal_scan(obj: Context, as_json: bool) -> None:
    """Đưa hồ sơ hết thời hạn bảo quản và hồ sơ trùng lặp vào Danh mục tài liệu hết giá trị (chạy lại nhiều lần vẫn cho cùng kết quả)."""
    result = appraisal.scan(obj.services, obj.identity)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(_("Đã đưa vào danh mục {expired} hồ sơ hết hạn và {duplicates} hồ sơ trùng lặp; "
                 "bỏ qua {held} hồ sơ đang bị phong tỏa.", obj.lang).format(
        expired=result.expired, duplicates=result.duplicates, held=result.skipped_held))
    for code in result.codes:
        info(code)


@disposal.command("list")
@click.option("--fonds", help=N_("Mã phông."))
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def disposal_list(obj: Context, fonds: str | None, as_json: bool) -> None:
    """In Danh mục tài liệu hết giá trị (trạng thái Xem xét hủy)."""
    rows, _total = appraisal.list_listed(obj.services, obj.identity, fonds=fonds, page=1,
                                         size=1_000_000)
    echo_rows([{k: v for k, v in r.to_dict().items()
                if k in ("code", "title", "maintenance", "expires_on", "reason", "case")}
               for r in rows] if not as_json else [r.to_dict() for r in rows], as_json)


@disposal.command("hold")
@click.argument("record")
@click.option("--reason", required=True, help=N_("Lý do phong tỏa."))
@click.pass_obj
def disposal_hold(obj: Context, record: str, reason: str) -> None:
    """Đặt lệnh phong tỏa một hồ sơ: hồ sơ ra khỏi danh mục hủy và không bị hủy cho đến khi gỡ."""
    hold = holds.place(obj.services, obj.identity, record, reason)
    click.echo(_("Đã phong tỏa hồ sơ {code} (lệnh số {id}).", obj.lang).format(
        code=hold.code, id=hold.id))


@disposal.command("lift")
@click.argument("hold_id", type=click.IntRange(1))
@click.option("--reason", required=True, help=N_("Lý do gỡ phong tỏa."))
@click.pass_obj
def disposal_lift(obj: Context, hold_id: int, reason: str) -> None:
    """Gỡ một lệnh phong tỏa."""
    hold = holds.lift(obj.services, obj.identity, hold_id, reason)
    click.echo(_("Đã gỡ lệnh phong tỏa {id} của hồ sơ {code}.", obj.lang).format(
        code=hold.code, id=hold.id))


@disposal.command("execute")
@click.argument("case_id")
@click.pass_obj
def disposal_execute(obj: Context, case_id: str) -> None:
    """Thực hiện hủy một hồ sơ hủy đã có quyết định (xóa mọi bản sao ở mọi vị trí lưu trữ)."""
    case = execution.execute(obj.services, obj.identity, case_id)
    click.echo(_("Đã hủy {count} hồ sơ; hồ sơ hủy được lưu tại {key}.", obj.lang).format(
        count=len(case["tombstones"]), key=case["record_key"]))
