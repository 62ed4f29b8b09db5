"""``khoso repository`` (the paper repository, #15) and ``khoso queue`` (what to digitise
first, #16): parse, call one service, print."""

from __future__ import annotations

import json
from typing import Any

import click

from access_api.cli.base import Context, echo_rows, info, main
from access_api.i18n import N_, _
from access_api.services import digitisation_queue, paper
from access_api.services import repository as service


def _dump(rows: list[dict[str, Any]]) -> None:
    click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))


@main.group()
def repository() -> None:
    """Kho lưu trữ giấy: kho, giá, hộp, thiết bị, hồ sơ giấy mượn quá hạn."""


@repository.command("add")
@click.argument("code")
@click.option("--name", required=True, help=N_("Tên kho."))
@click.option("--area", "area_m2", type=float, required=True, help=N_("Diện tích kho (m²)."))
@click.option("--address", help=N_("Địa chỉ kho."))
@click.pass_obj
def repository_add(obj: Context, code: str, name: str, area_m2: float,
                   address: str | None) -> None:
    """Thêm một kho lưu trữ."""
    made = service.create_repository(obj.services, obj.identity, code=code, name=name,
                                     area_m2=area_m2, address=address)
    info(_("Đã thêm kho {code} ({area} m²).", obj.lang).format(code=made.code,
                                                              area=made.area_m2))


@repository.command("list")
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def repository_list(obj: Context, as_json: bool) -> None:
    """Liệt kê các kho với số giá, hộp, hồ sơ giấy và thiết bị."""
    rows = [{"code": r.code, "name": r.name, "area_m2": r.area_m2, "shelves": len(r.shelves),
             "boxes": len(r.boxes), "files": r.files, "equipment": r.equipment}
            for r in service.list_repositories(obj.services, obj.identity)]
    echo_rows(rows, as_json)


@repository.command("overdue")
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def repository_overdue(obj: Context, as_json: bool) -> None:
    """Thiết bị quá hạn bảo dưỡng và hồ sơ giấy mượn quá hạn trả."""
    equipment = [{"repository": e.repository, "label": e.label, "kind": e.kind,
                  "next_service_on": e.next_service_on}
                 for e in service.list_equipment(obj.services, obj.identity, overdue_only=True)]
    loans, _total = paper.list_loans(obj.services, obj.identity, overdue_only=True, size=1000)
    late = [{"code": loan.code, "borrower": loan.borrower, "due_on": loan.due_on}
            for loan in loans]
    if as_json:
        click.echo(json.dumps({"equipment": equipment, "loans": late}, ensure_ascii=False,
                              indent=2, default=str))
        return
    info(_("Thiết bị quá hạn bảo dưỡng: {count}", obj.lang).format(count=len(equipment)))
    echo_rows(equipment, False)
    info(_("Hồ sơ giấy quá hạn trả: {count}", obj.lang).format(count=len(late)))
    echo_rows(late, False)


@main.group()
def queue() -> None:
    """Hàng đợi số hóa tài liệu giấy theo điểm ưu tiên."""


@queue.command("list")
@click.option("--fonds", help=N_("Mã phông."))
@click.option("--size", type=click.IntRange(1, 1000), default=20, show_default=True,
              help=N_("Số kết quả mỗi trang."))
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def queue_list(obj: Context, fonds: str | None, size: int, as_json: bool) -> None:
    """Hồ sơ giấy chưa số hóa, điểm ưu tiên cao trước, kèm từng thành phần của điểm."""
    entries, total = digitisation_queue.queue(obj.services, obj.identity, fonds=fonds,
                                              size=size)
    if as_json:
        _dump([e.to_dict() for e in entries])
        return
    info(_("{total} hồ sơ giấy chưa số hóa", obj.lang).format(total=total))
    echo_rows([{"code": e.code, "state": e.state, "score": e.score.total,
                "permanent": e.score.permanent, "uses": e.score.uses,
                "condition": e.score.condition, "override": e.score.override}
               for e in entries], False)


@queue.command("progress")
@click.option("--fonds", help=N_("Mã phông."))
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def queue_progress(obj: Context, fonds: str | None, as_json: bool) -> None:
    """Tiến độ số hóa theo phông: số đơn vị bảo quản và số trang theo từng bước."""
    rows = [p.to_dict() for p in digitisation_queue.progress(obj.services, obj.identity,
                                                             fonds=fonds)]
    if as_json:
        _dump(rows)
        return
    echo_rows([{"fonds": r["fonds"], "units": r["units"], "pages": r["pages"],
                **r["units_by_state"]} for r in rows], False)
