"""``khoso user …``: accounts, roles and API tokens, through ``access_api.services.accounts``.

Exit codes: 0 done; 1 refused input (password policy, unknown account or token, a taken
username, a disabled account, the last admin); 2 usage or system error."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Any, NoReturn

import click

from access_api.cli.base import Context, echo_rows, main
from access_api.i18n import N_, _
from access_api.services import accounts
from access_api.services.accounts import TokenView, UserView
from access_api.services.base import UserRole
from preservation.errors import Conflict, KhosoError, NotFound


def refused(obj: Context, exc: KhosoError) -> NoReturn:
    """A refusal of what the operator asked (no such account, name taken…): exit 1, like a
    rejected input, not 2 (that is for usage and system errors)."""
    click.echo(_("Lỗi [{code}]: {message}").format(code=exc.code, message=exc.message(obj.lang)),
               err=True)
    raise SystemExit(1)


def _user_row(view: UserView) -> dict[str, Any]:
    return {"username": view.username, "full_name": view.full_name,
            "roles": ",".join(view.roles), "agency": view.agency,
            "active": "yes" if view.active else "no", "created_at": view.created_at.isoformat()}


def _token_row(view: TokenView) -> dict[str, Any]:
    return {key: value.isoformat() if hasattr(value, "isoformat") else value
            for key, value in asdict(view).items()}


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt(_("Mật khẩu"), hide_input=True,
                            confirmation_prompt=_("Nhập lại mật khẩu")))


@main.group()
def user() -> None:
    """Tài khoản và mã truy cập API."""


@user.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([r.value for r in UserRole]),
              help=N_("Vai trò (lặp lại được): admin, archivist, agency_submitter, "
                      "preservation_officer, reader."))
@click.option("--agency", help=N_("Mã định danh cơ quan mà tài khoản agency_submitter nộp lưu "
                                  "thay (bắt buộc với vai trò đó, và chỉ với nó)."))
@click.option("--full-name", help=N_("Họ và tên."))
@click.option("--password-stdin", is_flag=True,
              help=N_("Đọc mật khẩu từ dòng đầu của đầu vào chuẩn (không thì hỏi hai lần)."))
@click.pass_obj
def user_add(obj: Context, username: str, roles: tuple[str, ...], agency: str | None,
             full_name: str | None, password_stdin: bool) -> None:
    """Thêm tài khoản. Mật khẩu: 12–1024 ký tự, ít nhất hai loại trong chữ thường, chữ hoa,
    chữ số và ký tự khác, không chứa tên đăng nhập."""
    password = _password(password_stdin)
    try:
        accounts.add_user(obj.services, obj.identity, username, password, list(roles),
                          agency=agency, full_name=full_name)
    except Conflict as exc:
        refused(obj, exc)
    click.echo(_("Đã thêm tài khoản: {username}").format(username=username))


@user.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True,
              help=N_("Đọc mật khẩu từ dòng đầu của đầu vào chuẩn (không thì hỏi hai lần)."))
@click.pass_obj
def user_password(obj: Context, username: str, password_stdin: bool) -> None:
    """Đặt mật khẩu mới cho tài khoản; mọi phiên đăng nhập của nó bị đóng."""
    password = _password(password_stdin)
    try:
        accounts.reset_password(obj.services, obj.identity, username, password)
    except NotFound as exc:
        refused(obj, exc)
    click.echo(_("Đã đặt mật khẩu mới cho: {username}").format(username=username))


@user.command("token")
@click.argument("username")
@click.option("--expires", default="90d", show_default=True,
              help=N_("Thời hạn: 12h (giờ), 30d (ngày)…, tối đa 365d; không có mã vô thời hạn."))
@click.option("--label", default="api", show_default=True,
              help=N_("Tên gợi nhớ của mã truy cập."))
@click.pass_obj
def user_token(obj: Context, username: str, expires: str, label: str) -> None:
    """Cấp mã truy cập API: in số hiệu và hạn dùng, rồi mã một mình trên dòng cuối (chỉ
    hiển thị một lần)."""
    try:
        new = accounts.issue_token(obj.services, obj.identity, username, expires=expires,
                                   label=label)
    except (NotFound, Conflict) as exc:
        refused(obj, exc)
    expires_at = new.view.expires_at.isoformat() if new.view.expires_at else "-"
    click.echo(_("Mã truy cập số {id} của {username}, hết hạn {expires_at}").format(
        id=new.view.id, username=username, expires_at=expires_at))
    click.echo(new.token)


@user.command("revoke")
@click.argument("token_id", type=click.IntRange(min=1))
@click.pass_obj
def user_revoke(obj: Context, token_id: int) -> None:
    """Thu hồi một mã truy cập (theo số hiệu); có hiệu lực ngay."""
    try:
        view = accounts.revoke_token(obj.services, obj.identity, token_id)
    except NotFound as exc:
        refused(obj, exc)
    click.echo(_("Đã thu hồi mã truy cập số {id} của {username}").format(
        id=view.id, username=view.username))


@user.command("disable")
@click.argument("username")
@click.pass_obj
def user_disable(obj: Context, username: str) -> None:
    """Khóa tài khoản: phiên đăng nhập và mã truy cập của nó ngừng hiệu lực ngay."""
    try:
        accounts.set_active(obj.services, obj.identity, username, False)
    except (NotFound, Conflict) as exc:
        refused(obj, exc)
    click.echo(_("Đã khóa tài khoản: {username}").format(username=username))


@user.command("enable")
@click.argument("username")
@click.pass_obj
def user_enable(obj: Context, username: str) -> None:
    """Mở khóa tài khoản."""
    try:
        accounts.set_active(obj.services, obj.identity, username, True)
    except NotFound as exc:
        refused(obj, exc)
    click.echo(_("Đã mở khóa tài khoản: {username}").format(username=username))


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def user_list(obj: Context, as_json: bool) -> None:
    """Danh sách tài khoản."""
    rows, _total = accounts.list_users(obj.services, obj.identity, 1, 2**31 - 1)
    if as_json:
        click.echo(json.dumps([{**asdict(v), "roles": list(v.roles),
                                "created_at": v.created_at.isoformat()} for v in rows],
                              ensure_ascii=False, indent=2))
        return
    echo_rows([_user_row(v) for v in rows], False)


@user.command("tokens")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def user_tokens(obj: Context, username: str, as_json: bool) -> None:
    """Các mã truy cập của một tài khoản (không có mã bí mật)."""
    try:
        rows, _total = accounts.list_tokens(obj.services, obj.identity, username, 1,
                                            2**31 - 1)
    except NotFound as exc:
        refused(obj, exc)
    echo_rows([_token_row(v) for v in rows], as_json)
