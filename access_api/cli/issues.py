"""``khoso issues [CODE]``: what an issue code means and which clause it enforces."""

from __future__ import annotations

import json

import click

from access_api.cli.base import Context, main
from access_api.i18n import N_, _
from preservation.errors import NotFound
from preservation.issues import IssueDefinition

# Vietnamese msgids, translated where they are printed (``_label``).
_LABELS = {"code": N_("Mã"), "severity": N_("Mức độ"), "clause": N_("Căn cứ"),
           "message": N_("Thông báo"), "error": N_("lỗi"), "warning": N_("cảnh báo"),
           "info": N_("thông tin")}


def _label(key: str, lang: str) -> str:
    return _(_LABELS[key], lang)


def _message(d: IssueDefinition, lang: str) -> str:
    return d.vi if lang == "vi" else d.en


def _echo_list(definitions: tuple[IssueDefinition, ...], lang: str) -> None:
    """One line per code: code, severity and clause in columns, then the message."""
    rows = [(d.code, _label(d.severity.value, lang), d.clause, _message(d, lang))
            for d in definitions]
    head = (_label("code", lang), _label("severity", lang), _label("clause", lang),
            _label("message", lang))
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(3)]
    for row in (head, *rows):
        click.echo("  ".join(v.ljust(w) for v, w in zip(row[:3], widths, strict=True))
                   + "  " + row[3])


@main.command("issues")
@click.argument("code", required=False)
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def issues(obj: Context, code: str | None, as_json: bool) -> None:
    """Mã lỗi: mức độ, căn cứ (điều khoản) và thông báo.

    Không có CODE: mọi mã; CODE đầy đủ (PKG001): một mã; phần đầu mã (PKG, SIG0): họ mã đó.
    Mã thoát 1 khi không có mã nào là CODE hoặc bắt đầu bằng CODE."""
    from access_api.services.issues import issue_to_dict, lookup_issues

    try:
        found = lookup_issues(code)
    except NotFound as exc:
        click.echo(f"[{exc.code}] {exc.message(obj.lang)}", err=True)
        raise SystemExit(1) from None
    if as_json:
        data = ([issue_to_dict(d) for d in found.definitions] if not found.exact
                else issue_to_dict(found.definitions[0]))
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif found.exact:
        d = found.definitions[0]
        width = max(len(_label(k, obj.lang))
                    for k in ("code", "severity", "clause", "message")) + 1
        for key, value in (("code", d.code), ("severity", _label(d.severity.value, obj.lang)),
                           ("clause", d.clause), ("message", _message(d, obj.lang))):
            click.echo(f"{(_label(key, obj.lang) + ':').ljust(width)} {value}")
    else:
        _echo_list(found.definitions, obj.lang)
