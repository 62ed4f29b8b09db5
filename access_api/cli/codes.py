"""``khoso codes``: the TT 05 code lists a SIP sheet's values come from."""

from __future__ import annotations

import json

import click

from access_api.cli.base import Context, main
from access_api.i18n import N_, _


@main.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help=N_("Kết quả dạng JSON."))
@click.pass_obj
def codes(obj: Context, name: str | None, as_json: bool) -> None:
    """In các danh mục mã TT 05 và ý nghĩa từng mã.

    NAME: tên danh mục (maintenance, typeName…) hoặc tên tiếng Việt ("Thời hạn lưu trữ");
    bỏ trống để in mọi danh mục. Mã thoát 1 nếu không có danh mục đó.
    """
    from access_api.services import sip
    from preservation.errors import KhosoError

    try:
        views = sip.code_lists(name)
    except KhosoError as exc:
        click.echo(f"[{exc.code}] {exc.message(obj.lang)}", err=True)
        raise SystemExit(1) from None
    if as_json:
        click.echo(json.dumps([v.to_dict() for v in views], ensure_ascii=False, indent=2))
        return
    en = obj.lang == "en"
    for i, view in enumerate(views):
        if i:
            click.echo("")
        title = view.en if en else view.vi
        where = f" (TT 05 {view.source})" if view.source else ""
        click.echo(f"{view.name} — {title}{where}")
        if view.columns:
            click.echo(_("  cột: {columns}").format(columns=", ".join(view.columns)))
        width = max(len(c) for c, _, _ in view.codes)
        for code, vi, label_en in view.codes:
            click.echo(f"  {code.ljust(width)}  {label_en if en else vi}")
