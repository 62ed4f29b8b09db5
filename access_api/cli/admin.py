"""Set-up and administration: init, db, settings, keys, agencies, fonds, accounts."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click

from access_api.cli.base import Context, echo_rows, info, main
from access_api.services import admin


@main.command()
@click.pass_obj
def init(obj: Context) -> None:
    """Khởi tạo thư mục dữ liệu, danh mục, bản sao, clamd và tài khoản quản trị đầu tiên."""
    done = admin.initialise(obj.services, obj.identity)
    if done.official_virus_db is False:
        click.echo("Cảnh báo: chưa có cơ sở dữ liệu chữ ký virus chính thức trong /var/lib/clamav; "
                   "clamd chỉ nhận biết mẫu thử EICAR. / Warning: no official ClamAV database.")
    if done.key_created:
        info(f"Đã tạo khóa ký tự cấp cho AIP / self-signed AIP signing key: {done.key_created}")
    info(f"Đã khởi tạo / initialised: {done.data_dir}")
    if done.first_admin:
        click.echo("Tài khoản quản trị đầu tiên (chỉ hiển thị một lần) / first admin account "
                   f"(shown once): {done.first_admin[0]} / {done.first_admin[1]}")


@main.group()
def db() -> None:
    """Cơ sở dữ liệu danh mục / catalog database."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True,
              help="Phiên bản lược đồ đích (Alembic) / target schema revision.")
@click.pass_obj
def db_upgrade(obj: Context, revision: str) -> None:
    """Nâng cấp lược đồ danh mục (Alembic) / migrate the catalog schema."""
    click.echo("Phiên bản lược đồ / schema revision: "
               f"{admin.upgrade_schema(obj.services, revision)}")


@main.group()
def agency() -> None:
    """Cơ quan nộp lưu / submitting agencies."""


@agency.command("add")
@click.argument("organ_id")
@click.argument("name")
@click.option("--address", help="Địa chỉ cơ quan / postal address.")
@click.option("--email", help="Thư điện tử liên hệ / contact e-mail.")
@click.pass_obj
def agency_add(obj: Context, organ_id: str, name: str, address: str | None,
               email: str | None) -> None:
    """Thêm cơ quan theo mã định danh / add an agency by its identifier."""
    admin.add_agency(obj.services, obj.identity, organ_id, name, address=address, email=email)
    click.echo(f"Đã thêm cơ quan / agency added: {organ_id}")


@agency.command("list")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON / print JSON.")
@click.pass_obj
def agency_list(obj: Context, as_json: bool) -> None:
    """Danh sách cơ quan / list agencies."""
    echo_rows(admin.list_agencies(obj.services), as_json)


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
def fonds_add(obj: Context, /, **fields: Any) -> None:
    """Thêm phông lưu trữ (10 trường TT 05) / add a fonds."""
    data = admin.FondsInput(**{**fields, "languages": list(fields["languages"])})
    admin.add_fonds(obj.services, obj.identity, data)
    click.echo(f"Đã thêm phông / fonds added: {fields['fond_code']}")


@fonds.command("list")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON / print JSON.")
@click.pass_obj
def fonds_list(obj: Context, as_json: bool) -> None:
    """Danh sách phông / list fonds."""
    echo_rows(admin.list_fonds(obj.services), as_json)


SOURCES_VI = {"environment": "môi trường / environment", "default": "mặc định / default"}


@main.command("settings")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON / print JSON.")
@click.option("--doc", "with_doc", is_flag=True,
              help="Kèm mô tả và giá trị mặc định của mỗi biến / with each variable's meaning "
                   "and default.")
def settings_cmd(as_json: bool, with_doc: bool) -> None:
    """Giá trị đang dùng của mọi biến KHOSO_* và nguồn của nó (mật khẩu được che) / the value
    in effect of every KHOSO_* setting and where it came from (passwords masked)."""
    rows = admin.settings_in_effect()
    if as_json:
        click.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{r.name}={r.value}  ({SOURCES_VI[r.source.value]})")
        if r.error:
            click.echo(f"    giá trị không hợp lệ / invalid value: {r.error}")
        if with_doc:
            click.echo(f"    {r.doc} [mặc định / default: {r.default}]")


@main.group()
def keys() -> None:
    """Khóa ký của cơ quan lưu trữ / the archive's signing key."""


@keys.command("init")
@click.option("--force", is_flag=True, help="Thay khóa hiện có / replace the existing key.")
@click.pass_obj
def keys_init(obj: Context, force: bool) -> None:
    """Tạo khóa và chứng thư tự ký / make a self-signed key and certificate."""
    subject = admin.init_keys(obj.services, force=force)
    click.echo(f"Đã tạo khóa ký / signing key created: {subject} ({obj.settings.keys_dir})")


@main.group()
def user() -> None:
    """Tài khoản và mã truy cập API / accounts and API tokens."""


@user.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              help="admin | archivist | preservation_officer | submitter | reader")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Mật khẩu (hỏi khi không nhập) / password (prompted when not given).")
@click.pass_obj
def user_add(obj: Context, username: str, roles: tuple[str, ...], password: str) -> None:
    """Thêm tài khoản / add an account."""
    admin.add_user(obj.services, obj.identity, username, password, list(roles))
    click.echo(f"Đã thêm tài khoản / account added: {username}")


@user.command("token")
@click.argument("username")
@click.option("--name", default="api", show_default=True,
              help="Tên gợi nhớ của mã truy cập / a label for the token.")
@click.pass_obj
def user_token(obj: Context, username: str, name: str) -> None:
    """Cấp mã truy cập API (chỉ hiển thị một lần) / issue an API token (shown once)."""
    click.echo(admin.issue_api_token(obj.services, obj.identity, username, name))
