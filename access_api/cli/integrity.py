"""Fixity and recovery: audit, registers, catalog rebuild."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from access_api.cli.base import Context, main, progress_printer
from access_api.services import audit as audit_service
from access_api.services import rebuild, registers


@main.command()
@click.option("--due/--all", "due_only", default=True, show_default=True,
              help="Chỉ các bản sao đến hạn, hoặc tất cả / only copies due, or all.")
@click.option("--location", help="Chỉ một vị trí lưu trữ / one storage location.")
@click.option("--aip", "objid", metavar="OBJID",
              help="Mọi bản sao của một AIP (mọi phiên bản), dù chưa đến hạn / every copy of "
                   "one AIP (every version), due or not.")
@click.option("--repair", is_flag=True, help="Sửa bản sao hỏng từ bản tốt / repair bad copies.")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON / print JSON.")
@click.pass_obj
def audit(obj: Context, due_only: bool, location: str | None, objid: str | None, repair: bool,
          as_json: bool) -> None:
    """Kiểm tra tính toàn vẹn các bản sao / fixity audit. Exit 0 all good, 1 problems found."""
    report = audit_service.audit(obj.services, obj.identity, due_only=due_only,
                                 location=location, objid=objid, repair=repair,
                                 progress=None if as_json else progress_printer())
    data = report.to_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(f"Đã kiểm tra / checked: {data['copies_checked']} bản sao/copies, "
                   f"tốt/ok {data['ok']}, hỏng/bad {data['bad']}, "
                   f"chưa kiểm tra được/not checked {data['not_checked']}, "
                   f"đối tượng đã sửa/objects repaired {data['repaired']}, "
                   f"nguy cấp/critical {len(data['critical'])}")
        echo_problems(data["problems"], obj.lang)
    raise SystemExit(1 if audit_service.has_problems(report, repaired=repair) else 0)


WHAT_IS_WRONG = {"AUD001": "sai mã băm / mismatch", "AUD002": "thiếu / missing",
                 "AUD003": "không đọc được / unreadable", "AUD042": "tệp lạ / foreign file"}


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
            text = what or (issue["message"] if lang == "vi" else issue["message_en"])
            lines.append(f"  {problem.get('location', '')}  {where}  {text} [{issue['code']}]")
    if lines:
        click.echo("Đối tượng có vấn đề / objects with problems:")
        for line in lines:
            click.echo(line)


@main.group()
def report() -> None:
    """Báo cáo, sổ sách / reports and registers."""


@report.command("register")
@click.argument("name", type=click.Choice(registers.NAMES))
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Từ ngày / from (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Đến ngày / until.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True, help="Định dạng kết quả / output format.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Tệp kết quả (mặc định in ra màn hình) / output file.")
@click.pass_obj
def report_register(obj: Context, name: str, since: dt.datetime | None,
                    until: dt.datetime | None, fmt: str, out: Path | None) -> None:
    """Sổ nhật ký sao lưu, biên bản kiểm tra, biên bản xử lý sự cố (TT 05 Phụ lục VII)."""
    if out is None:
        registers.write(obj.services, name, sys.stdout, fmt=fmt, since=since, until=until)
    else:
        with out.open("w", encoding="utf-8", newline="") as f:
            rows = registers.write(obj.services, name, f, fmt=fmt, since=since, until=until)
        click.echo(f"Đã ghi / written: {out} ({rows} dòng/rows)")


@main.group("catalog")
def catalog_group() -> None:
    """Danh mục / the catalog."""


@catalog_group.command("rebuild")
@click.option("--from", "location", help="Vị trí đọc trước tiên / preferred source location "
              "(mọi vị trí đều được đọc / every location is read).")
@click.option("--verify", is_flag=True, help="Băm lại mọi đối tượng / re-hash every object.")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON / print JSON.")
@click.pass_obj
def catalog_rebuild(obj: Context, location: str | None, verify: bool, as_json: bool) -> None:
    """Dựng lại toàn bộ danh mục (trống) từ mọi vị trí lưu trữ / rebuild an empty catalog from
    every storage location; run again on a catalog left incomplete, it adds what is missing."""
    result = rebuild.rebuild(obj.services, obj.identity, prefer=location, verify=verify,
                             progress=None if as_json else progress_printer())
    data = result.to_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(json.dumps({k: v for k, v in data.items() if k != "problems"},
                              ensure_ascii=False, default=str))
        for problem in data.get("problems", []):
            click.echo(f"  [{problem['code']}] {problem['path']}: {problem['message']}", err=True)
    raise SystemExit(1 if rebuild.incomplete(result) else 0)
