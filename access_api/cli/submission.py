"""Getting packages in: bag validate, ingest, sip build."""

from __future__ import annotations

import json
from pathlib import Path

import click

from access_api.cli.base import Context, main, progress_printer
from access_api.cli.jobs import severity_word
from access_api.i18n import N_, _
from access_api.services import ingest as ingest_service
from access_api.services.ingest import IngestRun
from preservation.errors import KhosoError


@main.group()
def bag() -> None:
    """Túi BagIt."""


@bag.command("validate")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--profile", "profile_name", default="sip-tt05", show_default=True,
              help=N_("Hồ sơ BagIt trong profiles/, hoặc 'none' để chỉ kiểm tra RFC 8493."))
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def bag_validate(obj: Context, path: Path, profile_name: str, as_json: bool) -> None:
    """Kiểm tra túi BagIt hoặc gói TT 05 không có BagIt (thư mục, .zip, .tar, .tar.gz).

    Mã thoát 0: hợp lệ; 1: không hợp lệ; 3: hợp lệ nhưng chưa đầy đủ (thiếu tệp có trong
    fetch.txt).
    """
    from access_api.bagcheck import check_bag
    from ingest.unbagged import SubmissionForm

    report, summary = check_bag(path, None if profile_name == "none" else profile_name)
    incomplete = report.ok and not summary["complete"]
    if as_json:
        click.echo(json.dumps({**summary, **report.to_dict()}, ensure_ascii=False, indent=2))
    else:
        for issue in report.issues:
            click.echo(f"[{issue.code}] {severity_word(issue.severity.value, obj.lang)}: "
                       f"{issue.path or path}: {issue.message(obj.lang)}")
        if incomplete:
            verdict = _("hợp lệ nhưng chưa đầy đủ")
        else:
            verdict = _("hợp lệ") if report.ok else _("không hợp lệ")
        form = SubmissionForm(summary["form"]) if summary.get("form") else None
        seen = form.label(obj.lang) if form else _("không nhận ra")
        click.echo(_("{path}: {form}: {verdict} ({files} tệp, {size} byte)").format(
            path=path, form=seen, verdict=verdict, files=summary["files"],
            size=summary["bytes"]))
        absent = [e for e in summary["fetch"] if not e["present"]]
        if absent:
            click.echo(_("Cần tải (khoso không tự tải):"))
            for e in absent:
                size = _("chưa rõ") if e["length"] is None else e["length"]
                click.echo(_("  {path} <- {url} ({size} byte)").format(
                    path=e["path"], url=e["url"], size=size))
    raise SystemExit(3 if incomplete else 0 if report.ok else 1)


# Severity values (``preservation.issues.Severity``) in words, for the ingest's issue lines.


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--wait", is_flag=True,
              help=N_("Chạy ngay trong tiến trình này và chờ kết quả."))
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def ingest(obj: Context, path: Path, wait: bool, as_json: bool) -> None:
    """Nộp lưu một túi SIP. Mã thoát 0: được tiếp nhận; 1: bị từ chối; 2: lỗi."""
    if not path.exists():
        raise click.UsageError(_("không tìm thấy: {path}").format(path=path))
    if not wait:
        job_id = ingest_service.submit(obj.services, obj.identity, path)
        out = {"job_id": job_id, "status": "queued"}
        click.echo(json.dumps(out) if as_json
                   else _("Đã xếp hàng: công việc {job_id}").format(job_id=job_id))
        return
    run = ingest_service.run_now(obj.services, obj.identity, path,
                                 progress=None if as_json else progress_printer())
    finish(obj, run, as_json)


@main.group()
def sip() -> None:
    """Gói nộp lưu SIP."""


# The count of each severity in the summary line of ``sip build`` (Vietnamese msgids).
SEVERITY_COUNTS = {"error": N_("lỗi: {n}"), "warning": N_("cảnh báo: {n}"),
                   "info": N_("thông tin: {n}")}


@sip.command("build")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--metadata", "sheet", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=N_("Bảng siêu dữ liệu CSV, XLSX hoặc JSON."))
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help=N_("Thư mục túi BagIt sẽ tạo (chưa tồn tại)."))
@click.option("--organ-id", required=True, help=N_("Mã định danh cơ quan nộp lưu."))
@click.option("--agency-name", required=True, help=N_("Tên cơ quan nộp lưu."))
@click.option("--fond", "fond_code", required=True, help=N_("Mã phông."))
@click.option("--agreement", help=N_("Mã đăng ký yêu cầu nộp (SUBMISSIONAGREEMENT)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Kết quả dạng JSON."))
@click.pass_obj
def sip_build(obj: Context, src: Path, sheet: Path, out: Path, organ_id: str, agency_name: str,
              fond_code: str, agreement: str | None, as_json: bool) -> None:
    """Tạo túi SIP theo TT 05 từ thư mục tệp và bảng siêu dữ liệu.

    \b
    Bảng kê (CSV, XLSX hoặc JSON; mẫu: khoso sip template MAU.xlsx):
    - dòng 1 là tên cột: tên phần tử TT 05 (fileCode, title, maintenance…)
      hoặc tên tiếng Việt của cột ("Mã hồ sơ", "Thời hạn lưu trữ"…);
    - cột kind: hoso hoặc tailieu trên đúng một dòng, doc / pic / media
      trên mỗi dòng tài liệu; dòng có kind bắt đầu bằng # được bỏ qua;
    - cột file: tên tệp trong SRC (nhiều tệp ngăn bằng ;);
    - ngày DD/MM/YYYY; mã ghi bằng mã hoặc tên ("01" hoặc "Vĩnh viễn";
      "Quyết định"); nhiều giá trị ngăn bằng ; (xem: khoso codes);
    - CSV: dấu phẩy, chấm phẩy hoặc tab; UTF-8 (có/không BOM), UTF-16
      hoặc Windows-1258 (nên lưu "CSV UTF-8 (Comma delimited)").

    Mỗi vấn đề in một dòng kèm mức độ (lỗi, cảnh báo), rồi một dòng tổng kết.
    Mã thoát 0: đã tạo gói (có thể kèm cảnh báo); 1: bảng kê có lỗi, không tạo gói.
    """
    from access_api.services import sip

    result = sip.build(src, sheet, out, organ_id=organ_id, agency_name=agency_name,
                       fond_code=fond_code, submission_agreement=agreement)
    counts = sip.counts(result.report)
    if as_json:
        click.echo(json.dumps({"ok": result.out is not None,
                               "out": None if result.out is None else str(result.out),
                               "counts": counts, **result.report.to_dict()},
                              ensure_ascii=False, indent=2))
    else:
        for issue in result.report.issues:
            click.echo(f"[{severity_word(issue.severity.value, obj.lang)}] {issue.code} "
                       f"{issue.path or sheet.name}: {issue.message(obj.lang)}")
        summary = ", ".join(_(SEVERITY_COUNTS[s]).format(n=n) for s, n in counts.items())
        if result.out is not None:
            click.echo(_("Đã tạo túi SIP: {out} ({summary})").format(out=result.out,
                                                                    summary=summary))
        else:
            click.echo(_("Không tạo gói ({summary})").format(summary=summary))
    raise SystemExit(0 if result.out is not None else 1)


@sip.command("template")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", "content", type=click.Choice(["hoso", "tailieu"]), default="hoso",
              show_default=True, help=N_("Dòng gói ví dụ: hồ sơ hoặc tài liệu rời lẻ."))
@click.option("--force", is_flag=True, help=N_("Ghi đè tệp đã có."))
@click.pass_obj
def sip_template(obj: Context, out: Path, content: str, force: bool) -> None:
    """Tạo mẫu bảng kê OUT.xlsx hoặc OUT.csv. Mã thoát 1: tên tệp không dùng được (đuôi
    khác, tệp đã có mà không có --force).

    \b
    Dòng 1: tên cột (phần tử TT 05); dòng 2 (bắt đầu bằng #): tên tiếng Việt,
    bắt buộc hay không, giá trị được nhận; tiếp theo: các dòng ví dụ (một gói và
    một tài liệu mỗi loại) — sửa hoặc xóa rồi dùng với khoso sip build.
    XLSX có thêm trang "Hướng dẫn" và "Danh mục mã"; CSV là UTF-8 có BOM.
    """
    from access_api.services import sip

    try:
        written = sip.template(out, content=content, overwrite=force)
    except KhosoError as exc:  # a name the operator chose: rejected input, not a failure
        click.echo(f"[{exc.code}] {exc.message(obj.lang)}", err=True)
        raise SystemExit(1) from None
    click.echo(_("Đã tạo mẫu bảng kê: {out}").format(out=written))


def finish(obj: Context, run: IngestRun, as_json: bool) -> None:
    """What an ingest run in this process came to, printed (JSON on stdout for scripts, or
    lines for a person), and the exit code: 0 accepted, 1 refused; the archive's own error
    raised (exit 2). Shared by ``ingest --wait`` and ``digitise import --wait``."""
    job_id, outcome = run.job_id, run.outcome
    if run.error is not None:
        if run.requeued:
            click.echo(_("Công việc {job_id}: vẫn trong hàng đợi").format(job_id=job_id),
                       err=True)
        if as_json:  # a script reads the outcome on stdout whatever it was
            click.echo(json.dumps({"accepted": False, "job_id": job_id,
                                   "status": "queued" if run.requeued else "failed",
                                   "retry": run.requeued, "error": run.error.issue.to_dict()},
                                  ensure_ascii=False, indent=2))
        raise run.error
    assert outcome is not None
    if as_json:
        click.echo(json.dumps(outcome.to_dict(), ensure_ascii=False, indent=2))
    elif outcome.accepted:
        click.echo(_("Đã tiếp nhận: {objid} (công việc {job_id})").format(objid=outcome.objid,
                                                                         job_id=job_id))
        for issue in outcome.report.issues:
            click.echo(f"  [{issue.code}] {issue.path}: {issue.message(obj.lang)}")
    else:
        click.echo(_("Bị từ chối ở bước {step} (công việc {job_id}); lưu giữ tại: {quarantine}")
                   .format(step=outcome.failed_step, job_id=job_id,
                           quarantine=outcome.quarantine), err=True)
        for issue in outcome.report.issues:
            click.echo(f"  [{issue.code}] {severity_word(issue.severity.value, obj.lang)} "
                       f"{issue.path}: {issue.message(obj.lang)}", err=True)
    raise SystemExit(0 if outcome.accepted else 1)
