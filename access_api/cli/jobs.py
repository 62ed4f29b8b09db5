"""Jobs: what became of a queued ingest, and its report."""

from __future__ import annotations

import json

import click

from access_api.cli.base import Context, echo_rows, info, main
from access_api.services.base import Identity, ServiceContext
from access_api.services.jobs import JobView, list_jobs, show_job
from preservation.catalog.vocab import JobStatus

OUTCOMES_VI = {"pending": "đang chờ", "accepted": "được tiếp nhận", "rejected": "bị từ chối",
               "system_error": "lỗi hệ thống", "cancelled": "đã hủy"}


def _when(value: object) -> str:
    return value.isoformat(timespec="seconds") if hasattr(value, "isoformat") else ""


@main.group()
def job() -> None:
    """Công việc nộp lưu trong hàng đợi / queued ingest jobs."""


@job.command("list")
@click.option("--state", "states", multiple=True, type=click.Choice([s.value for s in JobStatus]),
              help="Chỉ các công việc ở trạng thái này (lặp lại được) / only jobs in this state "
                   "(repeatable).")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True,
              help="Số công việc mới nhất tối đa / most recent jobs shown.")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON / print JSON.")
@click.pass_obj
def job_list(obj: Context, states: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Danh sách công việc, mới nhất trước / jobs, newest first."""
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
    outcome = OUTCOMES_VI.get(view.outcome.value, view.outcome.value) if lang == "vi" \
        else view.outcome.value.replace("_", " ")
    click.echo(f"{view.id}: {view.state.value} — {outcome}")
    for label, value in (("nguồn / source", view.source), ("OBJID", view.objid),
                         ("bước lỗi / failed step", view.failed_step),
                         ("lưu giữ tại / quarantine", view.quarantine),
                         ("người nộp / submitted by", view.created_by),
                         ("tạo lúc / created", _when(view.created_at)),
                         ("kết thúc / finished", _when(view.finished_at)),
                         ("số lần chạy / attempts", str(view.attempts))):
        if value:
            click.echo(f"  {label}: {value}")
    if view.error and view.outcome.value != "rejected":
        click.echo(f"  lỗi / error: {view.error}")
    if view.issues:
        info(f"  Báo cáo / report ({view.issues_total}):")
    for issue in view.issues:
        message = issue.message if lang == "vi" else issue.message_en
        click.echo(f"  - [{issue.code}] {issue.severity} {issue.path}: {message}")
    if view.issues_total > len(view.issues):
        click.echo(f"  … {view.issues_total - len(view.issues)} "
                   "vấn đề khác trong report.json / more in report.json")


@job.command("show")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON / print JSON.")
@click.pass_obj
def job_show(obj: Context, job_id: str, as_json: bool) -> None:
    """Kết quả và báo cáo của một công việc / a job's outcome and report
    (exit 0 accepted or still pending, 1 rejected, 2 system error)."""
    view = show_job(ServiceContext(obj.settings), Identity.system(), job_id)
    if as_json:
        click.echo(json.dumps(view.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        echo_job(view, obj.lang)
    raise SystemExit({"rejected": 1, "system_error": 2}.get(view.outcome.value, 0))
