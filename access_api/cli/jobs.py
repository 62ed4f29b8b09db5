"""Jobs: what became of a queued ingest, and its report."""

from __future__ import annotations

import json

import click

from access_api.cli.base import Context, echo_rows, info, main
from access_api.i18n import N_, _
from access_api.services.base import Identity, ServiceContext
from access_api.services.jobs import JobView, list_jobs, show_job
from preservation.catalog.vocab import JobStatus

# Vietnamese msgids of the outcome and severity values, translated where they are printed.
OUTCOMES = {"pending": N_("đang chờ"), "accepted": N_("được tiếp nhận"),
            "rejected": N_("bị từ chối"), "system_error": N_("lỗi hệ thống"),
            "cancelled": N_("đã hủy"), "done": N_("đã xong")}
SEVERITIES = {"error": N_("lỗi"), "warning": N_("cảnh báo"), "info": N_("thông tin")}


def severity_word(severity: str, lang: str) -> str:
    """An issue's severity (``error``…) as a word of ``lang``; an unknown value as it is."""
    return _(SEVERITIES[severity], lang) if severity in SEVERITIES else severity


def _when(value: object) -> str:
    return value.isoformat(timespec="seconds") if hasattr(value, "isoformat") else ""


@main.group()
def job() -> None:
    """Công việc nộp lưu trong hàng đợi."""


@job.command("list")
@click.option("--state", "states", multiple=True, type=click.Choice([s.value for s in JobStatus]),
              help=N_("Chỉ các công việc ở trạng thái này (lặp lại được)."))
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True,
              help=N_("Số công việc mới nhất in ra tối đa."))
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def job_list(obj: Context, states: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Danh sách công việc, mới nhất trước."""
    views = list_jobs(ServiceContext(obj.settings), Identity.system(),
                      states=tuple(JobStatus(s) for s in states), limit=limit)
    if as_json:
        click.echo(json.dumps([v.to_dict() for v in views], ensure_ascii=False, indent=2,
                              default=str))
        return
    echo_rows([{"id": v.id, "state": v.state.value, "outcome": v.outcome.value,
                "objid": v.objid or "", "created_at": _when(v.created_at),
                "source": v.source} for v in views], False)


def echo_job(view: JobView, lang: str) -> None:
    """A job's outcome, then its report one issue a line."""
    value = view.outcome.value
    outcome = _(OUTCOMES[value], lang) if value in OUTCOMES else value
    click.echo(f"{view.id}: {view.state.value} — {outcome}")
    for label, shown in ((N_("nguồn"), view.source), ("OBJID", view.objid),
                         (N_("bước lỗi"), view.failed_step),
                         (N_("lưu giữ tại"), view.quarantine),
                         (N_("người nộp"), view.created_by),
                         (N_("tạo lúc"), _when(view.created_at)),
                         (N_("kết thúc"), _when(view.finished_at)),
                         (N_("số lần chạy"), str(view.attempts))):
        if shown:
            click.echo(f"  {_(label, lang)}: {shown}")
    if view.error and value != "rejected":
        click.echo(_("  lỗi: {error}", lang).format(error=view.error))
    if view.issues:
        info(_("  Báo cáo ({total}):", lang).format(total=view.issues_total))
    for issue in view.issues:
        message = issue.message if lang == "vi" else issue.message_en
        click.echo(f"  - [{issue.code}] {severity_word(issue.severity, lang)} {issue.path}: "
                   f"{message}")
    if view.issues_total > len(view.issues):
        click.echo(_("  … {count} vấn đề khác trong report.json", lang).format(
            count=view.issues_total - len(view.issues)))


@job.command("show")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def job_show(obj: Context, job_id: str, as_json: bool) -> None:
    """Kết quả và báo cáo của một công việc (mã thoát 0: được tiếp nhận hoặc còn chờ,
    1: bị từ chối, 2: lỗi hệ thống)."""
    view = show_job(ServiceContext(obj.settings), Identity.system(), job_id)
    if as_json:
        click.echo(json.dumps(view.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        echo_job(view, obj.lang)
    raise SystemExit({"rejected": 1, "system_error": 2}.get(view.outcome.value, 0))
