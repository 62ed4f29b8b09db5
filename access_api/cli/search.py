"""Full-text search for operators: rebuild the index, or search as staff from the server."""

from __future__ import annotations

import json

import click

from access_api.cli.base import Context, info, main
from access_api.i18n import N_, _
from access_api.services.search import SearchParams, reindex, run_search
from preservation.search.query import FACETS, KINDS


@main.group()
def search() -> None:
    """Tìm kiếm toàn văn hồ sơ và tài liệu."""


@search.command("reindex")
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def search_reindex(obj: Context, as_json: bool) -> None:
    """Lập lại toàn bộ chỉ mục tìm kiếm từ danh mục (chạy lại nhiều lần vẫn cho cùng kết quả)."""
    done = reindex(obj.services, obj.identity)
    if as_json:
        click.echo(json.dumps({"records": done.records, "documents": done.documents,
                               "seconds": done.seconds, "backend": done.backend}))
        return
    click.echo(_("Đã lập chỉ mục {records} hồ sơ và {documents} tài liệu trong {seconds} giây "
                 "({backend}).", obj.lang).format(records=done.records, documents=done.documents,
                                                  seconds=done.seconds, backend=done.backend))


@search.command("query")
@click.argument("words", nargs=-1)
@click.option("--fonds", help=N_("Mã phông."))
@click.option("--type", "type_", help=N_("Mã loại văn bản (typeName)."))
@click.option("--from", "date_from", help=N_("Từ năm hoặc ngày (2020, 2020-05-31)."))
@click.option("--to", "date_to", help=N_("Đến năm hoặc ngày (bao gồm)."))
@click.option("--mode", type=click.Choice(["01", "02", "03"]), help=N_("Chế độ sử dụng."))
@click.option("--kind", type=click.Choice(KINDS), help=N_("Hồ sơ hoặc tài liệu."))
@click.option("--page", type=click.IntRange(1), default=1, show_default=True,
              help=N_("Trang kết quả."))
@click.option("--size", type=click.IntRange(1, 1000), default=20, show_default=True,
              help=N_("Số kết quả mỗi trang."))
@click.option("--json", "as_json", is_flag=True, help=N_("In dạng JSON."))
@click.pass_obj
def search_query(obj: Context, words: tuple[str, ...], fonds: str | None, type_: str | None,
                 date_from: str | None, date_to: str | None, mode: str | None,
                 kind: str | None, page: int, size: int, as_json: bool) -> None:
    """Tìm như cán bộ lưu trữ (thấy cả tài liệu mật): không phân biệt hoa thường và dấu."""
    result = run_search(obj.services, obj.identity, SearchParams(
        q=" ".join(words), fonds=fonds, type=type_, date_from=date_from, date_to=date_to,
        mode=mode, kind=kind, page=page, size=size))
    if as_json:
        click.echo(json.dumps({"total": result.total, "exact": result.exact,
                               "ranked": result.ranked, "page": page, "size": size,
                               "hits": [{"kind": h.kind, "fileCode": h.file_code,
                                         "docCode": h.doc_code, "title": h.title,
                                         "snippet": h.snippet, "mode": h.mode}
                                        for h in result.hits],
                               "facets": result.facets}, ensure_ascii=False, indent=2))
        return
    if result.exact:
        info(_("{total} kết quả", obj.lang).format(total=result.total))
    else:
        info(_("Khoảng {total} kết quả (ước tính từ một mẫu; xếp hạng {ranked} mục tiêu biểu)",
               obj.lang).format(total=result.total, ranked=result.ranked))
    for h in result.hits:
        click.echo(f"[{h.mode}] {h.doc_code or h.file_code}  {h.title}")
        click.echo(f"    {h.snippet}")
    for facet in FACETS:
        counts = ", ".join(f"{k}: {n}" for k, n in sorted(result.facets[facet].items()))
        if counts:
            info(f"{facet}: {counts}")
