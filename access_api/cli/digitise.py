"""``khoso digitise``: page images to signed two-layer PDF/A, and into an AIP_hoso (#16)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from access_api.cli.base import Context, info, main
from access_api.i18n import N_, _
from access_api.services.digitise_pdf import digitise_pdf


@main.group()
def digitise() -> None:
    """Số hóa tài liệu giấy: ảnh trang thành PDF/A hai lớp có chữ ký số."""


@digitise.command("pdf")
@click.argument("images", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help=N_("Tệp PDF/A kết quả (chưa tồn tại)."))
@click.option("--agency-name", help=N_("Tên cơ quan số hóa hiện trên chữ ký số (mặc định: "
                                       "KHOSO_ARCHIVE_NAME)."))
@click.option("--drawings", is_flag=True,
              help=N_("Bản đồ, bản vẽ kỹ thuật: yêu cầu tối thiểu 300 dpi thay vì 200 dpi."))
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def digitise_pdf_command(obj: Context, images: tuple[Path, ...], out: Path,
                         agency_name: str | None, drawings: bool, as_json: bool) -> None:
    """Ghép ảnh trang (TIFF, JPEG, PNG; theo thứ tự) thành một PDF/A hai lớp có chữ ký số."""
    done = digitise_pdf(obj.services, obj.identity, list(images), out,
                        agency_name=agency_name, drawings=drawings)
    times = {"check": done.times.check, "ocr": done.times.ocr, "verify": done.times.verify,
             "sign": done.times.sign, "total": done.times.total}
    if as_json:
        click.echo(json.dumps({
            "path": str(done.path), "pages": done.page_count, "sha256": done.sha256,
            "size": done.size, "puid": done.puid, "agencyName": done.agency_name,
            "signedAt": done.signed_at.isoformat() if done.signed_at else None,
            "signer": done.signer, "tools": done.tools,
            "seconds": {k: round(v, 3) for k, v in times.items()},
            "warnings": [w.to_dict() for w in done.warnings]}, ensure_ascii=False, indent=2))
        return
    info(_("Đã số hóa {pages} trang vào {path} (PDF/A-2b, {puid}), ký bởi {agency} lúc {when}.",
           obj.lang).format(pages=done.page_count, path=done.path, puid=done.puid,
                            agency=done.agency_name,
                            when=done.signed_at.isoformat() if done.signed_at else "-"))
    info(_("Thời gian (giây): kiểm tra ảnh {check:.2f}, nhận dạng chữ và PDF/A {ocr:.2f}, "
           "kiểm chứng {verify:.2f}, ký số {sign:.2f}, tổng {total:.2f}.", obj.lang)
         .format(**times))
    for warning in done.warnings:
        click.echo(_("Cảnh báo [{code}]: {message}", obj.lang).format(
            code=warning.code, message=warning.message(obj.lang)), err=True)
    click.echo(f"SHA-256 {done.sha256}  {done.path}")
