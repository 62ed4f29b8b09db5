"""Registers and reports (#15): ``khoso report list``, ``khoso report NAME`` for every report
registered in ``access_api.services.reports``, and ``khoso report register`` (the TT 05
registers as CSV/JSON, kept for scripts that use it)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from access_api.cli.base import Context, KhosoCommand, KhosoGroup, main
from access_api.i18n import N_, _, current_language
from access_api.services import registers
from access_api.services.reports import service
from access_api.services.reports.spec import REPORTS, ReportFormat, ReportSpec
from preservation.errors import NotFound


class ReportGroup(KhosoGroup):
    """``list`` and ``register``, then one command per registered report; an unknown name
    is refused with RPT001 and the names that exist."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*sorted(self.commands), *sorted(REPORTS)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name in REPORTS:
            return _report_command(cmd_name)
        return None

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and not args[0].startswith("-") and self.get_command(ctx, args[0]) is None:
            raise NotFound("RPT001", "name", name=args[0][:100], known=", ".join(sorted(REPORTS)))
        return super().resolve_command(ctx, args)


@main.group(cls=ReportGroup)
def report() -> None:
    """Báo cáo, sổ sách."""


@report.command("list")
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def report_list(obj: Context, as_json: bool) -> None:
    """Các báo cáo có thể in, với tên tiếng Việt và tham số của từng báo cáo."""
    specs = [REPORTS[name] for name in sorted(REPORTS)]
    if as_json:
        click.echo(json.dumps([{"name": s.name, "title": s.title.label(obj.lang),
                                "required": sorted(p.value for p in s.required),
                                "accepted": sorted(p.value for p in s.accepted)}
                               for s in specs], ensure_ascii=False, indent=2))
        return
    width = max((len(s.name) for s in specs), default=0)
    for s in specs:
        needs = " ".join(f"--{p.value} …" for p in sorted(s.required))
        click.echo(f"{s.name:<{width}}  {s.title.label(obj.lang)}" + (f"  ({needs})" if needs else ""))


class ReportCommand(KhosoCommand):
    """A registered report: its help is its title in the chosen language (titles are
    ``Text`` in both languages, not gettext messages)."""

    def __init__(self, spec: ReportSpec, **kwargs: Any) -> None:
        super().__init__(spec.name, help=spec.title.vi, **kwargs)
        self.spec = spec

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(self.spec.title.label(current_language()))

    def get_short_help_str(self, limit: int = 45) -> str:
        return self.spec.title.label(current_language())


def _report_command(name: str) -> click.Command:
    spec = REPORTS[name]

    @click.pass_obj
    def run(obj: Context, fonds: str | None, hoso: str | None, since: str | None,
            until: str | None, fmt: str | None, out: Path) -> None:
        chosen = fmt or out.suffix.lstrip(".").lower() or f"--out {out.name}"
        done = service.write_file(obj.services, obj.identity, name, chosen, out, fonds=fonds,
                                  hoso=hoso, since=since, until=until, lang=obj.lang)
        click.echo(_("Đã ghi: {out} ({rows} dòng)").format(out=out, rows=done.rows))

    params: list[click.Parameter] = [
        click.Option(["--fonds"], metavar="CODE", help=N_("Mã phông lưu trữ.")),
        click.Option(["--hoso"], metavar="CODE",
                     help=N_("Mã hồ sơ lưu trữ hoặc số ký hiệu hồ sơ.")),
        click.Option(["--from", "since"], metavar="YYYY-MM-DD", help=N_("Từ ngày (YYYY-MM-DD).")),
        click.Option(["--to", "until"], metavar="YYYY-MM-DD",
                     help=N_("Đến ngày (YYYY-MM-DD), kể cả ngày này.")),
        click.Option(["--format", "fmt"], type=click.Choice([f.value for f in ReportFormat]),
                     help=N_("Định dạng tệp (mặc định theo phần mở rộng của --out).")),
        click.Option(["--out"], required=True, type=click.Path(path_type=Path),
                     help=N_("Tệp kết quả.")),
    ]
    return ReportCommand(spec, callback=run, params=params)


@report.command("register")
@click.argument("name", type=click.Choice(registers.NAMES))
@click.option("--since", "--from", "since", type=click.DateTime(["%Y-%m-%d"]),
              help=N_("Từ ngày (YYYY-MM-DD)."))
@click.option("--until", "--to", "until", type=click.DateTime(["%Y-%m-%d"]),
              help=N_("Đến ngày (YYYY-MM-DD), không kể ngày này."))
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True, help=N_("Định dạng kết quả."))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help=N_("Tệp kết quả (mặc định in ra màn hình)."))
@click.pass_obj
def report_register(obj: Context, name: str, since: dt.datetime | None,
                    until: dt.datetime | None, fmt: str, out: Path | None) -> None:
    """Sổ sách TT 05 Phụ lục VII và sổ khai thác sử dụng (so_khai_thac)."""
    if out is None:
        registers.write(obj.services, name, sys.stdout, fmt=fmt, since=since, until=until)
    else:
        with out.open("w", encoding="utf-8", newline="") as f:
            rows = registers.write(obj.services, name, f, fmt=fmt, since=since, until=until)
        click.echo(_("Đã ghi: {out} ({rows} dòng)").format(out=out, rows=rows))
