"""``khoso issues [CODE]``: what an issue code means and which clause it enforces."""

from __future__ import annotations

import json

import click

from access_api.cli.base import Context, main
from preservation.errors import NotFound
from preservation.issues import IssueDefinition

_LABELS = {
    "vi": {"code": "Mã", "severity": "Mức độ", "clause": "Căn cứ", "message": "Thông báo",
           "error": "lỗi", "warning": "cảnh báo", "info": "thông tin"},
    "en": {"code": "Code", "severity": "Severity", "clause": "Clause", "message": "Message",
           "error": "error", "warning": "warning", "info": "info"},
}


def _message(d: IssueDefinition, lang: str) -> str:
    return d.vi if lang == "vi" else d.en


def _echo_list(definitions: tuple[IssueDefinition, ...], lang: str) -> None:
    """One line per code: code, severity and clause in columns, then the message."""
    label = _LABELS[lang]
    rows = [(d.code, label[d.severity.value], d.clause, _message(d, lang)) for d in definitions]
    head = (label["code"], label["severity"], label["clause"], label["message"])
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(3)]
    for row in (head, *rows):
        click.echo("  ".join(v.ljust(w) for v, w in zip(row[:3], widths, strict=True))
                   + "  " + row[3])


@main.command("issues")
@click.argument("code", required=False)
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON / print as JSON.")
@click.pass_obj
def issues(obj: Context, code: str | None, as_json: bool) -> None:
    """Mã lỗi: mức độ, căn cứ (điều khoản) và thông báo / issue codes: severity, clause and
    message.

    Không có CODE: mọi mã; CODE đầy đủ (PKG001): một mã; phần đầu mã (PKG, SIG0): họ mã đó.
    Without CODE: every code; a full CODE: that code; the start of a code: that family.
    Exit 1 when no code is or starts with CODE."""
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
        d, label = found.definitions[0], _LABELS[obj.lang]
        width = max(len(label[k]) for k in ("code", "severity", "clause", "message")) + 1
        for key, value in (("code", d.code), ("severity", label[d.severity.value]),
                           ("clause", d.clause), ("message", _message(d, obj.lang))):
            click.echo(f"{(label[key] + ':').ljust(width)} {value}")
    else:
        _echo_list(found.definitions, obj.lang)
