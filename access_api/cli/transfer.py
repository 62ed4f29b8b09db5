"""Nộp lưu vào lưu trữ lịch sử: ``khoso transfer register|list|show|due|warnings|send|refresh|
export|receipt|complete``. Each command parses, calls one service
(``access_api.services.transfers``) and prints. The receiving archive's token is read from a
file (``--token-file``, ``-`` for standard input) or asked for without echo; never an
argument (it would be in the shell history and the process list)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from access_api.cli.base import Context, echo_rows, main
from access_api.i18n import N_, _
from access_api.services import transfers as service
from access_api.services.transfer_remote import refused
from preservation.catalog.vocab import TransferStatus
from preservation.issues import Issue

TOKEN_LIMIT = 500


@main.group()
def transfer() -> None:
    """Nộp lưu hồ sơ vĩnh viễn vào lưu trữ lịch sử."""


def _echo(view: service.TransferView, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(view.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    status = service.LABELS[TransferStatus(view.status)]
    click.echo(_("Lần nộp lưu {id}: {title} (phông {fonds}), dự kiến {planned}: {status}").format(
        id=view.id, title=view.title, fonds=view.fonds, planned=view.planned_on.isoformat(),
        status=status.label(_lang())))
    echo_rows([{"arcFileCode": i.code, "status": service.LABELS[TransferStatus(i.status)]
                .label(_lang()), "files": i.files, "remote": i.remote_arc_file_code or "",
                "problem": (i.problem or {}).get("code", "")} for i in view.items], False)


def _lang() -> str:
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(Context) if ctx is not None else None
    return obj.lang if obj is not None else "vi"


def _token(path: str | None) -> str:
    """The token from a file, from standard input (``-``), or asked for without echo."""
    if path is None:
        text = click.prompt(_("Mã truy cập tại kho nhận"), hide_input=True)
    elif path == "-":
        text = sys.stdin.readline()
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise refused(Issue("TRF028", "--token-file", {
                "file": path, "reason": str(exc)[:200]})) from None
    return str(text).strip()[:TOKEN_LIMIT]


JSON_OPTION = click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
TOKEN_OPTION = click.option("--token-file", metavar="FILE",
                            help=N_("Tệp chứa mã truy cập của tài khoản agency_submitter tại kho "
                                    "nhận ('-': đọc từ đầu vào chuẩn); bỏ trống thì hỏi."))


@transfer.command("register")
@click.option("--fonds", required=True, help=N_("Mã phông."))
@click.option("--title", required=True, help=N_("Tên khối tài liệu giao nộp."))
@click.option("--receiver", required=True, help=N_("Lưu trữ lịch sử nhận nộp lưu."))
@click.option("--planned", "planned_on", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help=N_("Ngày dự kiến nộp lưu (YYYY-MM-DD), ít nhất 12 tháng sau hôm nay."))
@click.option("--hoso", "records", multiple=True, metavar="CODE",
              help=N_("arcFileCode của hồ sơ (lặp lại được); bỏ trống: các hồ sơ vĩnh viễn "
                      "đến hạn."))
@JSON_OPTION
@click.pass_obj
def register(obj: Context, fonds: str, title: str, receiver: str, planned_on: dt.datetime,
             records: tuple[str, ...], as_json: bool) -> None:
    """Đăng ký nộp lưu (trước ít nhất 12 tháng)."""
    _echo(service.register(obj.services, obj.identity, fonds=fonds, title=title,
                           receiver=receiver, planned_on=planned_on.date(),
                           records=list(records) or None), as_json)


@transfer.command("list")
@click.option("--status", type=click.Choice([s.value for s in TransferStatus]),
              help=N_("Chỉ các lần nộp lưu ở trạng thái này."))
@JSON_OPTION
@click.pass_obj
def list_transfers(obj: Context, status: str | None, as_json: bool) -> None:
    """Danh sách các lần nộp lưu, mới nhất trước."""
    views, _total = service.page(obj.services, obj.identity,
                                 status=TransferStatus(status) if status else None, size=1000)
    if as_json:
        click.echo(json.dumps([v.to_dict() for v in views], ensure_ascii=False, indent=2,
                              default=str))
        return
    echo_rows([{"id": v.id, "fonds": v.fonds, "planned_on": v.planned_on.isoformat(),
                "status": service.LABELS[TransferStatus(v.status)].label(obj.lang),
                "records": len(v.items), "title": v.title} for v in views], False)


@transfer.command("show")
@click.argument("transfer_id")
@JSON_OPTION
@click.pass_obj
def show(obj: Context, transfer_id: str, as_json: bool) -> None:
    """Một lần nộp lưu và các hồ sơ của nó."""
    _echo(service.show(obj.services, obj.identity, transfer_id), as_json)


@transfer.command("due")
@click.option("--on", type=click.DateTime(["%Y-%m-%d"]), help=N_("Ngày tính (mặc định: hôm nay)."))
@click.option("--fonds", help=N_("Mã phông."))
@click.option("--within-days", type=click.IntRange(0), help=N_("Số ngày tới hạn (mặc định: "
                                                              "KHOSO_TRANSFER_WARN_DAYS)."))
@JSON_OPTION
@click.pass_obj
def due(obj: Context, on: dt.datetime | None, fonds: str | None, within_days: int | None,
        as_json: bool) -> None:
    """Hồ sơ vĩnh viễn đến hạn nộp lưu và tỷ lệ đạt chỉ tiêu kế hoạch."""
    report = service.due(obj.services, obj.identity, on=on.date() if on else None, fonds=fonds,
                         within_days=within_days)
    data: dict[str, Any] = report.to_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    echo_rows(data["records"], False)
    share = report.share
    click.echo(_("Đã nộp lưu trong {years} năm: {done}/{total} hồ sơ vĩnh viễn ({share}; chỉ "
                 "tiêu 80 %)").format(years=report.target_years, done=report.within_target,
                                      total=report.permanent,
                                      share="-" if share is None else f"{share:.0%}"))


@transfer.command("warnings")
@click.option("--on", type=click.DateTime(["%Y-%m-%d"]), help=N_("Ngày tính (mặc định: hôm nay)."))
@click.pass_obj
def warnings(obj: Context, on: dt.datetime | None) -> None:
    """Cảnh báo đến hạn nộp lưu. Mã thoát 0: không có; 1: có cảnh báo."""
    found = service.warnings_for(obj.services, obj.identity, on=on.date() if on else None)
    for issue in found:
        click.echo(f"[{issue.code}] {issue.message(obj.lang)}")
    raise SystemExit(1 if found else 0)


@transfer.command("send")
@click.argument("transfer_id")
@click.option("--url", "remote_url", required=True, help=N_("Địa chỉ gốc của khoso nhận."))
@click.option("--resend-interrupted", is_flag=True,
              help=N_("Gửi lại cả các hồ sơ mà lần gửi trước bị dừng giữa chừng (TRF031); chỉ "
                      "dùng khi đã kiểm tra kho nhận chưa có các hồ sơ đó."))
@TOKEN_OPTION
@JSON_OPTION
@click.pass_obj
def send(obj: Context, transfer_id: str, remote_url: str, resend_interrupted: bool,
         token_file: str | None, as_json: bool) -> None:
    """Gửi các hồ sơ chưa gửi (hoặc không đạt) tới khoso nhận."""
    _echo(service.send(obj.services, obj.identity, transfer_id, remote_url=remote_url,
                       token=_token(token_file), resend_interrupted=resend_interrupted),
          as_json)


@transfer.command("refresh")
@click.argument("transfer_id")
@TOKEN_OPTION
@JSON_OPTION
@click.pass_obj
def refresh(obj: Context, transfer_id: str, token_file: str | None, as_json: bool) -> None:
    """Cập nhật trạng thái và biên bản nhận từ khoso nhận."""
    _echo(service.refresh(obj.services, obj.identity, transfer_id, token=_token(token_file)),
          as_json)


@transfer.command("export")
@click.argument("transfer_id")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help=N_("Thư mục trống để ghi các gói và mục lục (mặc định: trong thư mục dữ "
                      "liệu)."))
@JSON_OPTION
@click.pass_obj
def export(obj: Context, transfer_id: str, out: Path | None, as_json: bool) -> None:
    """Xuất các gói SIP_hoso và mục lục hồ sơ nộp lưu ra thư mục (vật mang tin)."""
    _echo(service.export_media(obj.services, obj.identity, transfer_id, folder=out), as_json)


@transfer.command("receipt")
@click.argument("transfer_id")
@click.argument("receipt", type=click.File("rb"))
@JSON_OPTION
@click.pass_obj
def receipt(obj: Context, transfer_id: str, receipt: Any, as_json: bool) -> None:
    """Ghi biên bản nhận (JSON của khoso nhận) của một gói giao trên vật mang tin."""
    try:
        data = json.loads(receipt.read(8 << 20))
    except ValueError as exc:
        raise refused(Issue("TRF027", "receipt", {"reason": str(exc)[:200]})) from None
    _echo(service.record_receipt(obj.services, obj.identity, transfer_id, data), as_json)


@transfer.command("complete")
@click.argument("transfer_id")
@JSON_OPTION
@click.pass_obj
def complete(obj: Context, transfer_id: str, as_json: bool) -> None:
    """Đánh dấu các bản lưu đã nộp lưu (chỉ sau khi mọi hồ sơ có biên bản nhận khớp)."""
    _echo(service.complete(obj.services, obj.identity, transfer_id), as_json)
