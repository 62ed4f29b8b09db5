"""``khoso digitise import``: a folder of page images and its sheet into an AIP_hoso (#16)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from access_api.cli.base import Context, progress_printer
from access_api.cli.digitise import digitise
from access_api.cli.submission import finish
from access_api.i18n import N_, _
from access_api.services import digitisation as service
from ingest.digitise.importer import Options


@digitise.command("import")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--hoso", "file_code", required=True,
              help=N_("Mã hồ sơ (fileCode): mã cơ quan.năm.số hồ sơ, ví dụ H49.64.33.2001.160."))
@click.option("--fond", "fond_code", required=True, help=N_("Mã phông."))
@click.option("--paper-code", "paper_file_code",
              help=N_("Mã hồ sơ gốc giấy (paperFileCode), nếu bảng kê chưa ghi."))
@click.option("--operator", help=N_("Người số hóa (mặc định: người chạy lệnh)."))
@click.option("--scanner", help=N_("Máy quét đã dùng (hãng, kiểu, số máy)."))
@click.option("--wait", is_flag=True, help=N_("Chạy ngay trong tiến trình này và chờ kết quả."))
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def digitise_import(obj: Context, folder: Path, file_code: str, fond_code: str,
                    paper_file_code: str | None, operator: str | None, scanner: str | None,
                    wait: bool, as_json: bool) -> None:
    """Số hóa một hồ sơ giấy thành gói AIP_hoso (mức độ tin cậy 02).

    \b
    FOLDER có:
    - đúng một bảng kê (.csv, .xlsx, .json) như «khoso sip template»:
      một dòng hoso và một dòng doc cho mỗi tài liệu;
    - mỗi tài liệu một thư mục ảnh trang (TIFF, JPEG, PNG; ≥ 200 dpi,
      màu 24 bit), tên thư mục ghi ở cột file của dòng tài liệu.
    Mỗi tài liệu thành một tệp PDF/A hai lớp có chữ ký số của kho,
    tên «mã hồ sơ.số thứ tự.pdf», rồi được lưu như một gói nộp lưu.
    Mã thoát 0: đã lưu; 1: bị từ chối; 2: lỗi.
    """
    if not folder.is_dir():
        raise click.UsageError(_("không tìm thấy: {path}").format(path=folder))
    options = Options(file_code=file_code, fond_code=fond_code,
                      paper_file_code=paper_file_code,
                      operator=operator or obj.identity.actor, scanner=scanner)
    if not wait:
        job_id = service.start(obj.services, obj.identity, folder, options)
        click.echo(json.dumps({"job_id": job_id, "status": "queued"}) if as_json
                   else _("Đã xếp hàng: công việc {job_id}").format(job_id=job_id))
        return
    run = service.run_now(obj.services, obj.identity, folder, options,
                          progress=None if as_json else progress_printer())
    finish(obj, run, as_json)
