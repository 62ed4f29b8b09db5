"""Fixity and recovery: audit, catalog rebuild (the registers are in ``reports``)."""

from __future__ import annotations

import json
from typing import Any

import click

from access_api.cli.base import Context, main, progress_printer
from access_api.i18n import N_, _
from access_api.services import audit as audit_service
from access_api.services import rebuild


@main.command()
@click.option("--due/--all", "due_only", default=True, show_default=True,
              help=N_("Chỉ các bản sao đến hạn kiểm tra, hoặc tất cả."))
@click.option("--location", help=N_("Chỉ một vị trí lưu trữ."))
@click.option("--aip", "objid", metavar="OBJID",
              help=N_("Mọi bản sao của một AIP (mọi phiên bản), dù chưa đến hạn."))
@click.option("--repair", is_flag=True, help=N_("Sửa bản sao hỏng từ bản tốt."))
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def audit(obj: Context, due_only: bool, location: str | None, objid: str | None, repair: bool,
          as_json: bool) -> None:
    """Kiểm tra tính toàn vẹn các bản sao. Mã thoát 0: mọi bản sao tốt; 1: có vấn đề."""
    report = audit_service.audit(obj.services, obj.identity, due_only=due_only,
                                 location=location, objid=objid, repair=repair,
                                 progress=None if as_json else progress_printer())
    data = report.to_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(_("Đã kiểm tra {checked} bản sao: tốt {ok}, hỏng {bad}, chưa kiểm tra được "
                     "{not_checked}, đối tượng đã sửa {repaired}, nguy cấp {critical}").format(
            checked=data["copies_checked"], ok=data["ok"], bad=data["bad"],
            not_checked=data["not_checked"], repaired=data["repaired"],
            critical=len(data["critical"])))
        echo_problems(data["problems"], obj.lang)
    raise SystemExit(1 if audit_service.has_problems(report, repaired=repair) else 0)


WHAT_IS_WRONG = {"AUD001": N_("sai mã băm"), "AUD002": N_("thiếu"),
                 "AUD003": N_("không đọc được"), "AUD042": N_("tệp lạ")}


def echo_problems(problems: list[dict[str, Any]], lang: str) -> None:
    """One line per bad object: location, storage key, what is wrong (code); issues that are
    not about one object (repairs, a location down) with their message."""
    lines = []
    for problem in problems:
        for issue in problem.get("issues", []):
            if issue.get("severity") == "info" and issue["code"] not in ("AUD006",):
                continue  # "all objects match": not a problem
            params = issue.get("params", {})
            where = params.get("key") or issue.get("path") or ""
            what = WHAT_IS_WRONG.get(issue["code"])
            text = _(what) if what else issue["message"] if lang == "vi" else issue["message_en"]
            lines.append(f"  {problem.get('location', '')}  {where}  {text} [{issue['code']}]")
    if lines:
        click.echo(_("Đối tượng có vấn đề:"))
        for line in lines:
            click.echo(line)


@main.group("catalog")
def catalog_group() -> None:
    """Danh mục."""


@catalog_group.command("rebuild")
@click.option("--from", "location",
              help=N_("Vị trí đọc trước tiên (mọi vị trí đều được đọc)."))
@click.option("--verify", is_flag=True, help=N_("Băm lại mọi đối tượng."))
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def catalog_rebuild(obj: Context, location: str | None, verify: bool, as_json: bool) -> None:
    """Dựng lại toàn bộ danh mục (trống) từ mọi vị trí lưu trữ; chạy lại trên danh mục còn
    thiếu thì bổ sung phần còn thiếu."""
    result = rebuild.rebuild(obj.services, obj.identity, prefer=location, verify=verify,
                             progress=None if as_json else progress_printer())
    data = result.to_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(json.dumps({k: v for k, v in data.items() if k != "problems"},
                              ensure_ascii=False, default=str))
        for problem in data.get("problems", []):
            message = problem["message"] if obj.lang == "vi" else problem["message_en"]
            click.echo(f"  [{problem['code']}] {problem['path']}: {message}", err=True)
    raise SystemExit(1 if rebuild.incomplete(result) else 0)
