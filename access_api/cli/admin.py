"""Set-up and administration: init, db, settings, keys, agencies, fonds (accounts: ``users``)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click

from access_api.cli.base import Context, echo_rows, info, main
from access_api.i18n import N_, _
from access_api.services import admin


@main.command()
@click.pass_obj
def init(obj: Context) -> None:
    """Khởi tạo thư mục dữ liệu, danh mục, bản sao, clamd và tài khoản quản trị đầu tiên."""
    done = admin.initialise(obj.services, obj.identity)
    if done.official_virus_db is False:
        click.echo(_("Cảnh báo: chưa có cơ sở dữ liệu chữ ký virus chính thức trong "
                     "/var/lib/clamav; clamd chỉ nhận biết mẫu thử EICAR."))
    if done.key_created:
        info(_("Đã tạo khóa ký tự cấp cho AIP: {folder}").format(folder=done.key_created))
    if done.trusted:
        info(_("Đã đặt chứng thư ký của kho vào thư mục tin cậy: {path}").format(
            path=done.trusted))
    info(_("Đã khởi tạo: {folder}").format(folder=done.data_dir))
    if done.first_admin:
        click.echo(_("Tài khoản quản trị đầu tiên (chỉ hiển thị một lần): {username} / {password}")
                   .format(username=done.first_admin[0], password=done.first_admin[1]))


@main.group()
def db() -> None:
    """Cơ sở dữ liệu danh mục."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True,
              help=N_("Phiên bản lược đồ đích (Alembic)."))
@click.pass_obj
def db_upgrade(obj: Context, revision: str) -> None:
    """Nâng cấp lược đồ danh mục (Alembic)."""
    click.echo(_("Phiên bản lược đồ: {revision}").format(
        revision=admin.upgrade_schema(obj.services, revision)))


@main.group()
def agency() -> None:
    """Cơ quan nộp lưu."""


@agency.command("add")
@click.argument("organ_id")
@click.argument("name")
@click.option("--address", help=N_("Địa chỉ cơ quan."))
@click.option("--email", help=N_("Thư điện tử liên hệ."))
@click.pass_obj
def agency_add(obj: Context, organ_id: str, name: str, address: str | None,
               email: str | None) -> None:
    """Thêm cơ quan theo mã định danh (Quyết định 20/2020/QĐ-TTg)."""
    admin.add_agency(obj.services, obj.identity, organ_id, name, address=address, email=email)
    click.echo(_("Đã thêm cơ quan: {organ_id}").format(organ_id=organ_id))


@agency.command("list")
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def agency_list(obj: Context, as_json: bool) -> None:
    """Danh sách cơ quan."""
    echo_rows(admin.list_agencies(obj.services), as_json)


@main.group()
def fonds() -> None:
    """Phông lưu trữ."""


@fonds.command("add")
@click.argument("fond_code")
@click.argument("fond_name")
@click.option("--status", default="mở", show_default=True, help=N_("Trạng thái phông: đóng hoặc mở."))
@click.option("--history", "fond_history", help=N_("Lịch sử đơn vị hình thành phông."))
@click.option("--time", "archives_time", help=N_("Thời gian tài liệu, ví dụ 1946-1975."))
@click.option("--total-doc", help=N_("Tổng số tài liệu."))
@click.option("--scheme", "classification_scheme", help=N_("Phương án phân loại, các nhóm tài liệu chủ yếu."))
@click.option("--language", "languages", multiple=True, default=["01"], show_default=True,
              help=N_("Mã ngôn ngữ TT 05 (01–11), lặp lại được."))
@click.option("--risk-recovery/--no-risk-recovery", default=False, help=N_("Chế độ dự phòng."))
@click.option("--description", help=N_("Ghi chú."))
@click.option("--agency", "organ_id", help=N_("Mã định danh cơ quan hình thành phông."))
@click.pass_obj
def fonds_add(obj: Context, /, **fields: Any) -> None:
    """Thêm phông lưu trữ (10 trường TT 05)."""
    data = admin.FondsInput(**{**fields, "languages": list(fields["languages"])})
    admin.add_fonds(obj.services, obj.identity, data)
    click.echo(_("Đã thêm phông: {fond_code}").format(fond_code=fields["fond_code"]))


@fonds.command("list")
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def fonds_list(obj: Context, as_json: bool) -> None:
    """Danh sách phông."""
    echo_rows(admin.list_fonds(obj.services), as_json)


# Where a value came from (``preservation.settings.Source``), in words.
SOURCES = {"environment": N_("môi trường"), "default": N_("mặc định")}


@main.command("settings")
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.option("--doc", "with_doc", is_flag=True,
              help=N_("Kèm mô tả và giá trị mặc định của mỗi biến."))
@click.pass_obj
def settings_cmd(obj: Context, as_json: bool, with_doc: bool) -> None:
    """Giá trị đang dùng của mọi biến KHOSO_* và nguồn của nó (mật khẩu được che)."""
    rows = admin.settings_in_effect()
    if as_json:  # descriptions and reasons in both languages: {"vi": …, "en": …}
        click.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{r.name}={r.value}  ({_(SOURCES[r.source.value])})")
        if r.error:
            click.echo("    " + _("giá trị không hợp lệ: {error}").format(
                error=r.error.label(obj.lang)))
        if with_doc:
            click.echo(f"    {r.doc.label(obj.lang)} ["
                       + _("mặc định: {default}").format(default=r.default) + "]")


@main.group()
def keys() -> None:
    """Khóa ký của cơ quan lưu trữ."""


@keys.command("init")
@click.option("--force", is_flag=True, help=N_("Thay khóa hiện có."))
@click.pass_obj
def keys_init(obj: Context, force: bool) -> None:
    """Tạo khóa và chứng thư tự ký."""
    subject, trusted = admin.init_keys(obj.services, force=force)
    click.echo(_("Đã tạo khóa ký: {subject} ({folder})").format(subject=subject,
                                                                folder=obj.settings.keys_dir))
    if trusted:
        info(_("Đã đặt chứng thư ký của kho vào thư mục tin cậy: {path}").format(
            path=trusted))
