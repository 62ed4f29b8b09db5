"""Tìm kiếm toàn văn (full-text search): ``GET /api/v1/search``, open to anonymous callers and
readers; what each caller may see is decided by the service (mode 03 only for staff)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, Schema, fields, validators

from access_api.api.base import MAX_PAGE_SIZE, identity, services
from access_api.services.search import SearchParams, run_search
from preservation.catalog.vocab import AccessMode
from preservation.search import SearchResult
from preservation.search.query import FACETS, KINDS

bp = APIBlueprint("search", __name__, url_prefix="/api/v1" or None, tag="search")

NO_NUL = validators.Regexp(r"^[^\x00]*$", error="NUL character")
# The shape of a year or ISO date; the service checks the calendar (SRCH002) and the order.
PERIOD = validators.Regexp(r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$",
                           error="a year or an ISO date: 2020, 2020-05, 2020-05-31")


class SearchIn(Schema):
    q = fields.String(load_default="", validate=[validators.Length(max=1000), NO_NUL],
                      metadata={"description": "Từ khóa; không phân biệt hoa thường và dấu "
                                               "(\"dang uy\" tìm thấy \"Đảng ủy\"). Rỗng: mọi "
                                               "mục theo bộ lọc."})
    fonds = fields.String(validate=[validators.Length(max=20), NO_NUL],
                          metadata={"description": "Mã phông (fondCode)."})
    type = fields.String(validate=[validators.Length(max=2), NO_NUL],
                         metadata={"description": "Mã loại văn bản (typeName)."})
    from_ = fields.String(data_key="from", validate=PERIOD,
                          metadata={"description": "Từ năm hoặc ngày ISO (2020, 2020-05-31)."})
    to = fields.String(validate=PERIOD,
                       metadata={"description": "Đến năm hoặc ngày ISO (bao gồm)."})
    mode = fields.String(validate=validators.OneOf([m.value for m in AccessMode]))
    kind = fields.String(validate=validators.OneOf(list(KINDS)))
    page = fields.Integer(load_default=1, validate=validators.Range(min=1, max=10_000_000))
    size = fields.Integer(load_default=20, validate=validators.Range(min=1, max=MAX_PAGE_SIZE))


class HitOut(Schema):
    kind = fields.String(required=True, validate=validators.OneOf(list(KINDS)))
    fileCode = fields.String(required=True, allow_none=True)
    docCode = fields.String(required=True, allow_none=True)
    title = fields.String(required=True)
    snippet = fields.String(required=True, metadata={
        "description": "Văn bản gốc (có dấu) quanh các từ tìm thấy."})
    highlights = fields.List(fields.List(fields.Integer()), required=True, metadata={
        "description": "[đầu, cuối) của từng từ tìm thấy trong snippet."})
    mode = fields.String(required=True)
    year = fields.Integer(required=True, allow_none=True)


class SearchOut(Schema):
    total = fields.Integer(required=True, metadata={
        "description": "Số mục tìm thấy; ước tính khi exact là false."})
    exact = fields.Boolean(required=True, metadata={
        "description": "true: total và facets là số đếm chính xác. false (truy vấn khớp hơn "
                       "1.000 mục): total và facets được ước tính từ một mẫu trải đều toàn bộ "
                       "chỉ mục, và hits là các mục liên quan nhất trong ranked mục của mẫu."})
    ranked = fields.Integer(required=True, metadata={
        "description": "Số mục được xếp hạng; chỉ phân trang được trong số này (SRCH004)."})
    page = fields.Integer(required=True)
    size = fields.Integer(required=True)
    hits = fields.List(fields.Nested(HitOut), required=True)
    facets = fields.Dict(keys=fields.String(), values=fields.Dict(
        keys=fields.String(), values=fields.Integer()), required=True, metadata={
        "description": "Số mục theo " + ", ".join(FACETS) + " (chỉ những mục người gọi được xem)."})


def render(result: SearchResult, page: int, size: int) -> dict[str, Any]:
    return {"total": result.total, "exact": result.exact, "ranked": result.ranked,
            "page": page, "size": size,
            "hits": [{"kind": h.kind, "fileCode": h.file_code, "docCode": h.doc_code,
                      "title": h.title, "snippet": h.snippet,
                      "highlights": [list(s) for s in h.highlights], "mode": h.mode,
                      "year": h.year} for h in result.hits],
            "facets": result.facets}


@bp.get("/search")
@bp.input(SearchIn, location="query", arg_name="query")
@bp.output(SearchOut)
@bp.doc(summary="Tìm kiếm toàn văn hồ sơ và tài liệu",
        description="Xếp hạng theo mức liên quan, có đoạn trích và số đếm theo phông, loại, "
                    "năm, chế độ sử dụng. Tài liệu mật (03) không bao giờ hiện ra với độc giả.",
        responses=[422])
def search(query: dict[str, Any]) -> dict[str, Any]:
    params = SearchParams(q=query["q"], fonds=query.get("fonds"), type=query.get("type"),
                          date_from=query.get("from_"), date_to=query.get("to"),
                          mode=query.get("mode"), kind=query.get("kind"), page=query["page"],
                          size=query["size"])
    return render(run_search(services(), identity(), params), params.page, params.size)
