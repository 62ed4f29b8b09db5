"""The ``khoso`` root group and what every command shares (exit codes: see ``access_api.cli``)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

import click

from preservation import __version__
from preservation.catalog.db import Catalog
from preservation.errors import KhosoError, ValidationFailed
from preservation.logs import configure_logging
from preservation.settings import Settings, load_settings


@dataclass
class Context:
    lang: str
    _settings: Settings | None = None
    quiet: bool = False
    verbose: bool = False

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    def catalog(self) -> Catalog:
        return Catalog(self.settings.database_url)


def fail(ctx: Context, exc: KhosoError) -> None:
    other = "en" if ctx.lang == "vi" else "vi"
    click.echo(f"Lỗi / Error [{exc.code}]: {exc.message(ctx.lang)}", err=True)
    click.echo(f"  ({exc.message(other)})", err=True)
    if isinstance(exc, ValidationFailed):
        for issue in exc.report.issues:
            click.echo(f"  - [{issue.code}] {issue.path}: {issue.message(ctx.lang)}", err=True)
        raise SystemExit(1)
    raise SystemExit(2)


class KhosoGroup(click.Group):
    """Turns domain errors into a bilingual message and exit code 2 instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KhosoError as exc:
            obj = ctx.obj if isinstance(ctx.obj, Context) else Context("vi")
            fail(obj, exc)


@click.group(cls=KhosoGroup)
@click.version_option(__version__, prog_name="khoso",
                      help="In phiên bản rồi thoát / show the version and exit.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default=None,
              help="Ngôn ngữ thông báo / message language.")
@click.option("-q", "--quiet", is_flag=True,
              help="Ẩn các dòng thông tin, chỉ in kết quả và lỗi (tiến trình xử lý: không in "
                   "biểu ngữ) / hide informational lines; only results and errors.")
@click.option("-v", "--verbose", is_flag=True,
              help="Ghi nhật ký chi tiết (mức DEBUG) / log at DEBUG level.")
@click.pass_context
def main(ctx: click.Context, lang: str | None, quiet: bool, verbose: bool) -> None:
    """khoso — kho lưu trữ số (digital archival repository, TT 05/2025/TT-BNV)."""
    if quiet and verbose:
        raise click.UsageError("-q/--quiet và -v/--verbose không dùng cùng nhau / "
                               "-q/--quiet and -v/--verbose exclude each other.")
    ctx.obj = Context(lang or "vi", quiet=quiet, verbose=verbose)
    try:
        settings: Settings | None = ctx.obj.settings
    except KhosoError:
        settings = None  # reported by the command that needs the settings
    if settings is not None and lang is None:
        ctx.obj.lang = settings.language
    # A command logs only warnings and errors (its results are printed); the long-running
    # ones (serve, worker, beat) log at KHOSO_LOG_LEVEL (``process_log_level``).
    configure_logging("DEBUG" if verbose else "WARNING",
                      settings.log_format if settings else "text", unless_handled=True)


def process_log_level(obj: Context) -> str:
    """The log level of a long-running process: DEBUG with ``-v``, else KHOSO_LOG_LEVEL."""
    level = "DEBUG" if obj.verbose else obj.settings.log_level
    configure_logging(level, obj.settings.log_format)
    return level


def info(text: str) -> None:
    """An informational line (what was done, where): hidden by ``-q``; results and errors are
    not informational and use ``click.echo``."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(Context) if ctx is not None else None
    if obj is None or not obj.quiet:
        click.echo(text)


def keep_log(obj: Context, catalog: Catalog) -> None:
    """Copy the new audit-log entries next to the AIPs (best effort, ``services.mirror_log``):
    a catalog rebuilt later still shows who did what."""
    from access_api.services import build_storages, mirror_log

    try:
        mirror_log(obj.settings, catalog, list(build_storages(obj.settings).values()))
    except Exception as exc:  # noqa: BLE001 - the command itself is done and committed
        click.echo(f"Cảnh báo / warning: audit log not copied to storage: {exc}", err=True)


def echo_rows(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    if not rows:
        click.echo("(không có dữ liệu / no rows)")
        return
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(str(r[k] or "")) for r in rows)) for k in keys}
    click.echo("  ".join(k.ljust(widths[k]) for k in keys))
    for r in rows:
        click.echo("  ".join(str(r[k] or "").ljust(widths[k]) for k in keys))



def progress_printer() -> Any:
    if not sys.stderr.isatty():
        return None
    state: dict[str, Any] = {}

    def show(stage: str, done: int, total: int) -> None:
        bar = state.get(stage)
        if bar is None:
            for old in state.values():
                old.render_finish()
            bar = state[stage] = click.progressbar(length=total, label=stage.ljust(16),
                                                   file=sys.stderr)
        bar.update(done - bar.pos)

    return show
