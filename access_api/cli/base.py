"""The ``khoso`` root group and what every command shares (exit codes: see ``access_api.cli``)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

import click

from access_api.services.base import Identity, ServiceContext
from preservation import __version__
from preservation.catalog.db import Catalog
from preservation.errors import KhosoError, ValidationFailed
from preservation.settings import Settings, load_settings


@dataclass
class Context:
    lang: str
    _settings: Settings | None = None
    _services: ServiceContext | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def services(self) -> ServiceContext:
        """What every service call of this command works with (one catalog, one set of
        storage locations)."""
        if self._services is None:
            self._services = ServiceContext(self.settings)
        return self._services

    @property
    def identity(self) -> Identity:
        """The operator at the server's terminal: every role, recorded as ``cli``."""
        return Identity.system("cli")

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
@click.version_option(__version__, prog_name="khoso")
@click.option("--lang", type=click.Choice(["vi", "en"]), default=None,
              help="Ngôn ngữ thông báo / message language.")
@click.pass_context
def main(ctx: click.Context, lang: str | None) -> None:
    """khoso — kho lưu trữ số (digital archival repository, TT 05/2025/TT-BNV)."""
    ctx.obj = Context(lang or "vi")
    if lang is None:
        try:
            ctx.obj.lang = ctx.obj.settings.language
        except KhosoError:
            pass  # reported by the command that needs the settings


def keep_log(obj: Context, catalog: Catalog) -> None:
    """Copy the new audit-log entries next to the AIPs (best effort, ``MirrorAuditLog``): a
    catalog rebuilt later still shows who did what. Services register it in their unit of
    work; this is for a command that changed the catalog without one."""
    from access_api.services.uow import MirrorAuditLog, run_operations

    run_operations(ServiceContext(obj.settings, catalog), [MirrorAuditLog()])


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
