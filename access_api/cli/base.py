"""The ``khoso`` root group and what every command shares (exit codes: see ``access_api.cli``)."""

from __future__ import annotations

import inspect
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

import click

from access_api.i18n import N_, Language, _, current_language, set_language, translate_click
from access_api.services.base import Identity, ServiceContext
from preservation import __version__
from preservation.catalog.db import Catalog
from preservation.errors import KhosoError, ValidationFailed
from preservation.issues import Issue
from preservation.logs import configure_logging
from preservation.settings import Settings, load_settings


@dataclass
class Context:
    lang: str
    _settings: Settings | None = None
    quiet: bool = False
    verbose: bool = False
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


def option_names(command: click.Command) -> dict[str, str]:
    """Parameter name -> what the user typed (``total_doc`` -> ``--total-doc``, ``fond_code`` ->
    ``FOND_CODE``): a command passes its parameters to the core by name, so a problem the core
    reports on a field is shown on the option."""
    names: dict[str, str] = {}
    for param in command.params:
        if param.name is None:
            continue
        if isinstance(param, click.Option):
            names[param.name] = next((o for o in param.opts if o.startswith("--")), param.opts[0])
        else:
            names[param.name] = param.human_readable_name
    return names


def _as_typed(issue: Issue, names: dict[str, str]) -> Issue:
    shown = names.get(issue.path)
    if shown is None:
        return issue
    params = {k: shown if v == issue.path else v for k, v in issue.params.items()}
    return Issue(issue.code, shown, params)


def fail(ctx: Context, exc: KhosoError, names: dict[str, str] | None = None) -> None:
    """Print ``exc`` in the chosen language only and exit: 1 for rejected input (every problem
    listed, each on the option it concerns), 2 for anything else."""
    names = names or {}
    click.echo(_("Lỗi [{code}]: {message}", ctx.lang).format(code=exc.code,
                                                             message=exc.message(ctx.lang)),
               err=True)
    if isinstance(exc, ValidationFailed):
        for found in exc.report.issues:
            issue = _as_typed(found, names)
            click.echo(f"  - [{issue.code}] {issue.path}: {issue.message(ctx.lang)}", err=True)
        raise SystemExit(1)
    raise SystemExit(2)


# Click's own help texts, given Vietnamese msgids so they follow --lang like ours.
_CLICK_HELP = {"Show this message and exit.": N_("Hiện trợ giúp này rồi thoát."),
               "Show the version and exit.": N_("Hiện phiên bản rồi thoát.")}


def help_msgid(text: str) -> str:
    """The msgid of a help text as click shows it (indentation removed, up to a form feed)."""
    cleaned = inspect.cleandoc(text).partition("\f")[0]
    return _CLICK_HELP.get(cleaned, cleaned)


def help_language(ctx: click.Context) -> str:
    """The language ``--help`` speaks: ``--lang``, else ``KHOSO_LANGUAGE``, else Vietnamese;
    ``--help`` is eager, so it may run before the root group has set the language."""
    root = ctx.find_root()
    if root.params.get("lang"):
        return str(root.params["lang"])
    if isinstance(root.obj, Context):
        return root.obj.lang
    try:
        return load_settings().language
    except KhosoError:
        return Language.VI


def _short(text: str, limit: int) -> str:
    """The first sentence of ``text``, cut to ``limit`` characters (click's short help rule)."""
    first = text.split("\n\n")[0].replace("\n", " ")
    first = first.split(". ")[0].rstrip(".")
    return first if len(first) <= limit else first[: limit - 3].rstrip() + "..."


class KhosoCommand(click.Command):
    """A command whose help prints in the chosen language (help texts are Vietnamese msgids,
    translated when shown) and whose domain errors become a message and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KhosoError as exc:
            obj = ctx.find_object(Context) or Context(current_language())
            fail(obj, exc, option_names(self))

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        set_language(help_language(ctx))
        super().format_help(ctx, formatter)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)),
                              prefix=_("Cách dùng: "))

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if self.help:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(_(help_msgid(self.help)))

    def get_short_help_str(self, limit: int = 45) -> str:
        if self.short_help:
            return _(help_msgid(self.short_help))
        if self.help:
            return _short(_(help_msgid(self.help)), limit)
        return ""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None or not isinstance(param, click.Option):
                continue
            names, text = record
            if param.help and text.startswith(param.help):
                text = _(help_msgid(param.help)) + text[len(param.help):]
            rows.append((names, text.replace("[default: ", "[" + _("mặc định: "))
                         .replace("; required]", "; " + _("bắt buộc") + "]")
                         .replace("[required]", "[" + _("bắt buộc") + "]")))
        if rows:
            with formatter.section(_("Tùy chọn")):
                formatter.write_dl(rows)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)


class KhosoGroup(KhosoCommand, click.Group):
    """The same for a group; every command and group made under it gets these classes."""

    command_class = KhosoCommand
    group_class = type

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Entry point: click's own messages (a usage error while parsing, before any callback
        runs) speak ``KHOSO_LANGUAGE`` until ``--lang`` says otherwise."""
        translate_click()
        chosen = os.environ.get("KHOSO_LANGUAGE", "")
        set_language(chosen if chosen in set(Language) else Language.VI)
        return super().main(*args, **kwargs)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        commands = [(name, cmd) for name in self.list_commands(ctx)
                    if (cmd := self.get_command(ctx, name)) is not None and not cmd.hidden]
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _cmd in commands)
            with formatter.section(_("Lệnh")):
                formatter.write_dl([(name, cmd.get_short_help_str(limit))
                                    for name, cmd in commands])


def _choose_language(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        set_language(value)
    return value


@click.group(cls=KhosoGroup)
@click.version_option(__version__, prog_name="khoso")
@click.option("--lang", type=click.Choice([lang.value for lang in Language]), default=None,
              is_eager=True, callback=_choose_language, expose_value=True,
              help=N_("Ngôn ngữ của thông báo và trợ giúp (mặc định: KHOSO_LANGUAGE)."))
@click.option("-q", "--quiet", is_flag=True,
              help=N_("Ẩn các dòng thông tin, chỉ in kết quả và lỗi (tiến trình xử lý: không in "
                      "biểu ngữ)."))
@click.option("-v", "--verbose", is_flag=True,
              help=N_("Ghi nhật ký chi tiết (mức DEBUG)."))
@click.pass_context
def main(ctx: click.Context, lang: str | None, quiet: bool, verbose: bool) -> None:
    """khoso — kho lưu trữ số theo Thông tư 05/2025/TT-BNV."""
    if quiet and verbose:
        raise click.UsageError(_("-q/--quiet và -v/--verbose không dùng cùng nhau."))
    ctx.obj = Context(lang or Language.VI, quiet=quiet, verbose=verbose)
    try:
        settings: Settings | None = ctx.obj.settings
    except KhosoError:
        settings = None  # reported by the command that needs the settings
    if settings is not None and lang is None:
        ctx.obj.lang = settings.language
    set_language(ctx.obj.lang)
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
        click.echo(_("(không có dữ liệu)"))
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
