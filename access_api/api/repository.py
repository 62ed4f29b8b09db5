"""Kho lưu trữ giấy and the digitisation queue (#15/#16): parse, call one service, render.

Archivists and admins manage everything here; preservation officers may read the
repositories and their equipment (they watch the storage environment) and nothing else;
readers and agency systems get 403. ``requires`` sits right under the route decorator: a
caller without the role gets 403 whatever it sent."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, Schema, fields, validators
from flask import request

from access_api.api.base import Instant, PageQuery, identity, page_of, paged, requires, services
from access_api.services import digitisation_queue as queue_service
from access_api.services import paper as paper_service
from access_api.services import repository as service
from access_api.services.base import UserRole
from preservation.catalog.vocab import (
    DigitisationState,
    EquipmentCondition,
    EquipmentKind,
    PaperCondition,
)
from preservation.metadata.codelists import codelist

bp = APIBlueprint("repository", __name__, url_prefix="/api/v1", tag="repository")

TEXT = validators.Regexp(r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]*$",
                         error="no control character or lone surrogate")
CODE = validators.Regexp(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,19}$",
                         error="1–20 unaccented letters, digits, '.', '-', '_'")
MANAGE = (UserRole.ARCHIVIST,)
WATCH = (UserRole.ARCHIVIST, UserRole.PRESERVATION_OFFICER)
ERRORS = {401: "Chưa đăng nhập (AUTH003)", 403: "Không có quyền (AUTH004)",
          404: "Không tìm thấy (KHO001)",
          409: "Trùng mã, hộp đầy, đang xuất kho, sai thứ tự (KHO002–KHO005, KHO008, KHO009, "
               "KHO011)"}
JSON_LIMIT = 4 << 20  # a file plan of 5,000 entries fits; nothing here is larger


@bp.before_request
def small_bodies() -> None:
    """Bodies here are small JSON: a larger one is refused (413) before it is read."""
    request.max_content_length = JSON_LIMIT


def _text(limit: int, *, required: bool = False) -> fields.String:
    if required:
        return fields.String(required=True,
                             validate=[validators.Length(min=1, max=limit), TEXT])
    return fields.String(load_default=None, allow_none=True,
                         validate=[validators.Length(max=limit), TEXT])


def _choice(values: Any, *, required: bool = False) -> fields.String:
    allowed = validators.OneOf([v.value for v in values])
    if required:
        return fields.String(required=True, validate=allowed)
    return fields.String(load_default=None, allow_none=True, validate=allowed)


# -- repositories ---------------------------------------------------------------------------

class RepositoryIn(Schema):
    code = fields.String(required=True, validate=CODE, metadata={"description": "Mã kho"})
    name = _text(300, required=True)
    area_m2 = fields.Float(required=True, allow_nan=False,
                           validate=validators.Range(min=0, min_inclusive=False,
                                                     max=service.MAX_AREA_M2),
                           metadata={"description": "Diện tích kho (m²), lớn hơn 0"})
    address = _text(500)


class BoxOut(Schema):
    code = fields.String(required=True)
    shelf = fields.String(required=True)
    capacity = fields.Integer(required=True)
    files = fields.Integer(required=True)
    full = fields.Boolean(required=True)


class RepositoryOut(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    area_m2 = fields.Float(required=True)
    address = fields.String(allow_none=True)
    shelves = fields.List(fields.String(), required=True)
    boxes = fields.List(fields.Nested(BoxOut), required=True)
    files = fields.Integer(required=True)
    equipment = fields.Integer(required=True)


class RepositoryList(Schema):
    items = fields.List(fields.Nested(RepositoryOut), required=True)


class ShelfIn(Schema):
    code = fields.String(required=True, validate=CODE)


class BoxIn(Schema):
    shelf = fields.String(required=True, validate=CODE)
    code = fields.String(required=True, validate=CODE)
    capacity = fields.Integer(required=True,
                              validate=validators.Range(min=1, max=service.MAX_CAPACITY),
                              metadata={"description": "Số hồ sơ tối đa trong hộp"})


@bp.post("/repositories")
@requires(*MANAGE)
@bp.input(RepositoryIn, location="json", arg_name="body")
@bp.output(RepositoryOut, status_code=201)
@bp.doc(summary="Thêm kho lưu trữ (Add a repository)", responses=ERRORS)
def create_repository(body: dict[str, Any]) -> dict[str, Any]:
    return service.create_repository(services(), identity(), **body).to_dict()


@bp.get("/repositories")
@requires(*WATCH)
@bp.output(RepositoryList)
@bp.doc(summary="Danh sách kho lưu trữ (Repositories)", responses=ERRORS)
def list_repositories() -> dict[str, Any]:
    return {"items": [r.to_dict() for r in service.list_repositories(services(), identity())]}


@bp.get("/repositories/<code>")
@requires(*WATCH)
@bp.output(RepositoryOut)
@bp.doc(summary="Một kho: giá, hộp, số hồ sơ (A repository)", responses=ERRORS)
def get_repository(code: str) -> dict[str, Any]:
    return service.get_repository(services(), identity(), code).to_dict()


@bp.post("/repositories/<code>/shelves")
@requires(*MANAGE)
@bp.input(ShelfIn, location="json", arg_name="body")
@bp.output(RepositoryOut, status_code=201)
@bp.doc(summary="Thêm giá (Add a shelf)", responses=ERRORS)
def add_shelf(code: str, body: dict[str, Any]) -> dict[str, Any]:
    return service.add_shelf(services(), identity(), code, code=body["code"]).to_dict()


@bp.post("/repositories/<code>/boxes")
@requires(*MANAGE)
@bp.input(BoxIn, location="json", arg_name="body")
@bp.output(RepositoryOut, status_code=201)
@bp.doc(summary="Thêm hộp lên giá (Add a box to a shelf)", responses=ERRORS)
def add_box(code: str, body: dict[str, Any]) -> dict[str, Any]:
    return service.add_box(services(), identity(), code, **body).to_dict()


# -- equipment ------------------------------------------------------------------------------

class EquipmentIn(Schema):
    kind = _choice(EquipmentKind, required=True)
    label = _text(200, required=True)
    quantity = fields.Integer(load_default=1, validate=validators.Range(min=1, max=100_000))
    condition = _choice(EquipmentCondition, required=True)
    last_service_on = fields.Date(load_default=None, allow_none=True)
    next_service_on = fields.Date(load_default=None, allow_none=True)
    note = _text(2000)


class EquipmentServiceIn(Schema):
    condition = _choice(EquipmentCondition)
    last_service_on = fields.Date(load_default=None, allow_none=True)
    next_service_on = fields.Date(load_default=None, allow_none=True)
    note = _text(2000)


class EquipmentOut(Schema):
    id = fields.Integer(required=True)
    repository = fields.String(required=True)
    kind = fields.String(required=True)
    label = fields.String(required=True)
    quantity = fields.Integer(required=True)
    condition = fields.String(required=True)
    last_service_on = fields.Date(allow_none=True)
    next_service_on = fields.Date(allow_none=True)
    overdue = fields.Boolean(required=True, metadata={"description": "Quá hạn bảo dưỡng"})
    note = fields.String(allow_none=True)


class EquipmentList(Schema):
    items = fields.List(fields.Nested(EquipmentOut), required=True)


class EquipmentQuery(Schema):
    overdue = fields.Boolean(load_default=False)
    repository = fields.String(load_default=None, validate=CODE)


@bp.post("/repositories/<code>/equipment")
@requires(*MANAGE)
@bp.input(EquipmentIn, location="json", arg_name="body")
@bp.output(EquipmentOut, status_code=201)
@bp.doc(summary="Thêm thiết bị kho (Add equipment)", responses=ERRORS)
def add_equipment(code: str, body: dict[str, Any]) -> dict[str, Any]:
    return service.add_equipment(
        services(), identity(), code, kind=EquipmentKind(body.pop("kind")),
        condition=EquipmentCondition(body.pop("condition")), **body).to_dict()


@bp.get("/equipment")
@requires(*WATCH)
@bp.input(EquipmentQuery, location="query", arg_name="query")
@bp.output(EquipmentList)
@bp.doc(summary="Thiết bị kho; overdue=true: quá hạn bảo dưỡng (Equipment)", responses=ERRORS)
def list_equipment(query: dict[str, Any]) -> dict[str, Any]:
    rows = service.list_equipment(services(), identity(), overdue_only=query["overdue"],
                                  repository=query["repository"])
    return {"items": [r.to_dict() for r in rows]}


@bp.patch("/equipment/<int:equipment_id>")
@requires(*MANAGE)
@bp.input(EquipmentServiceIn, location="json", arg_name="body")
@bp.output(EquipmentOut)
@bp.doc(summary="Ghi nhận bảo dưỡng, tình trạng thiết bị (Record a service)", responses=ERRORS)
def service_equipment(equipment_id: int, body: dict[str, Any]) -> dict[str, Any]:
    condition = body.pop("condition")
    return service.service_equipment(
        services(), identity(), equipment_id,
        condition=EquipmentCondition(condition) if condition else None, **body).to_dict()


# -- staff ----------------------------------------------------------------------------------

class StaffIn(Schema):
    agency = fields.String(required=True, validate=[validators.Length(min=1, max=25), TEXT],
                           metadata={"description": "Mã định danh cơ quan (organId)"})
    full_name = _text(200, required=True)
    position = _text(200)
    phone = _text(30)
    email = _text(200)
    since = fields.Date(load_default=None, allow_none=True)


class StaffOut(Schema):
    id = fields.Integer(required=True)
    agency = fields.String(required=True)
    full_name = fields.String(required=True)
    position = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    since = fields.Date(allow_none=True)
    active = fields.Boolean(required=True)


class StaffList(Schema):
    items = fields.List(fields.Nested(StaffOut), required=True)


class StaffQuery(Schema):
    agency = fields.String(load_default=None, validate=[validators.Length(min=1, max=25), TEXT])


@bp.post("/archive-staff")
@requires(*MANAGE)
@bp.input(StaffIn, location="json", arg_name="body")
@bp.output(StaffOut, status_code=201)
@bp.doc(summary="Thêm người làm lưu trữ của cơ quan (Add archive staff)", responses=ERRORS)
def add_staff(body: dict[str, Any]) -> dict[str, Any]:
    return service.add_staff(services(), identity(), **body).to_dict()


@bp.get("/archive-staff")
@requires(*MANAGE)
@bp.input(StaffQuery, location="query", arg_name="query")
@bp.output(StaffList)
@bp.doc(summary="Người làm lưu trữ theo cơ quan (Archive staff)", responses=ERRORS)
def list_staff(query: dict[str, Any]) -> dict[str, Any]:
    return {"items": [r.to_dict() for r in service.list_staff(services(), identity(),
                                                               agency=query["agency"])]}


# -- paper hồ sơ ----------------------------------------------------------------------------

class PlaceIn(Schema):
    repository = fields.String(required=True, validate=CODE)
    shelf = fields.String(required=True, validate=CODE)
    box = fields.String(required=True, validate=CODE)


class PaperFileIn(PlaceIn):
    code = fields.String(required=True, validate=[validators.Length(min=1, max=100), TEXT],
                         metadata={"description": "paperFileCode: [Mã cơ quan lưu trữ]."
                                   "[Số kho/giá/hộp].[Số hồ sơ giấy]"})
    title = _text(1000, required=True)
    maintenance = fields.String(required=True,
                                validate=validators.OneOf(codelist("maintenance").codes))
    page_count = fields.Integer(required=True,
                                validate=validators.Range(min=0, max=paper_service.MAX_PAGES))
    condition = _choice(PaperCondition, required=True)
    fonds = fields.String(load_default=None, allow_none=True,
                          validate=[validators.Length(min=1, max=20), TEXT])
    year = fields.Integer(load_default=None, allow_none=True,
                          validate=validators.Range(min=1000, max=2100))


class PaperFileUpdate(Schema):
    condition = _choice(PaperCondition)
    page_count = fields.Integer(load_default=None, allow_none=True,
                                validate=validators.Range(min=0, max=paper_service.MAX_PAGES))
    move_to = fields.Nested(PlaceIn, load_default=None, allow_none=True)


class PaperFileOut(Schema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    repository = fields.String(required=True)
    shelf = fields.String(required=True)
    box = fields.String(required=True)
    fonds = fields.String(allow_none=True)
    maintenance = fields.String(required=True)
    year = fields.Integer(allow_none=True)
    page_count = fields.Integer(required=True)
    condition = fields.String(required=True)
    checked_out = fields.Boolean(required=True)
    borrower = fields.String(allow_none=True)
    due_on = fields.Date(allow_none=True)
    record = fields.String(allow_none=True, metadata={
        "description": "Hồ sơ số trong danh mục có paperFileCode này"})
    digitisation = fields.String(allow_none=True)
    priority_override = fields.Integer(required=True)
    override_reason = fields.String(allow_none=True)


PaperFilePage = page_of(PaperFileOut, "PaperFilePage")


class PaperFileQuery(PageQuery):
    fonds = fields.String(load_default=None, validate=[validators.Length(min=1, max=20), TEXT])
    condition = _choice(PaperCondition)
    checked_out = fields.Boolean(load_default=None, allow_none=True)


def _place(value: dict[str, Any] | None) -> paper_service.Place | None:
    return paper_service.Place(**value) if value else None


@bp.post("/paper-files")
@requires(*MANAGE)
@bp.input(PaperFileIn, location="json", arg_name="body")
@bp.output(PaperFileOut, status_code=201)
@bp.doc(summary="Nhập hồ sơ giấy vào hộp (Register a paper hồ sơ in a box)", responses=ERRORS)
def register_paper_file(body: dict[str, Any]) -> dict[str, Any]:
    place = paper_service.Place(body.pop("repository"), body.pop("shelf"), body.pop("box"))
    return paper_service.register(services(), identity(), place=place,
                                  condition=PaperCondition(body.pop("condition")),
                                  **body).to_dict()


@bp.get("/paper-files")
@requires(*MANAGE)
@bp.input(PaperFileQuery, location="query", arg_name="query")
@bp.output(PaperFilePage)
@bp.doc(summary="Hồ sơ giấy (Paper hồ sơ)", responses=ERRORS)
def list_paper_files(query: dict[str, Any]) -> dict[str, Any]:
    condition = query["condition"]
    views, total = paper_service.list_files(
        services(), identity(), fonds=query["fonds"],
        condition=PaperCondition(condition) if condition else None,
        checked_out=query["checked_out"], page=query["page"], size=query["size"])
    return paged([v.to_dict() for v in views], total, query["page"], query["size"])


@bp.get("/paper-files/<path:code>")
@requires(*MANAGE)
@bp.output(PaperFileOut)
@bp.doc(summary="Một hồ sơ giấy (A paper hồ sơ)", responses=ERRORS)
def get_paper_file(code: str) -> dict[str, Any]:
    return paper_service.get(services(), identity(), code).to_dict()


@bp.patch("/paper-files/<path:code>")
@requires(*MANAGE)
@bp.input(PaperFileUpdate, location="json", arg_name="body")
@bp.output(PaperFileOut)
@bp.doc(summary="Sửa tình trạng, số trang, chuyển hộp (Update a paper hồ sơ)",
        responses=ERRORS)
def update_paper_file(code: str, body: dict[str, Any]) -> dict[str, Any]:
    condition = body["condition"]
    return paper_service.update(
        services(), identity(), code, page_count=body["page_count"],
        condition=PaperCondition(condition) if condition else None,
        move_to=_place(body["move_to"])).to_dict()


# -- check-out and check-in -----------------------------------------------------------------

class CheckOutIn(Schema):
    borrower = _text(200, required=True)
    purpose = _text(1000, required=True)
    due_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "Hạn trả (mặc định: hôm nay + KHOSO_PAPER_LOAN_DAYS)"})
    note = _text(2000)


class CheckInIn(Schema):
    condition = _choice(PaperCondition)
    move_to = fields.Nested(PlaceIn, load_default=None, allow_none=True)
    note = _text(2000)


class LoanOut(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    title = fields.String(required=True)
    borrower = fields.String(required=True)
    purpose = fields.String(required=True)
    out_by = fields.String(required=True)
    out_at = Instant(required=True)
    due_on = fields.Date(required=True)
    returned_at = Instant(allow_none=True)
    returned_by = fields.String(allow_none=True)
    return_condition = fields.String(allow_none=True)
    overdue = fields.Boolean(required=True)
    note = fields.String(allow_none=True)


LoanPage = page_of(LoanOut, "PaperLoanPage")


class LoanQuery(PageQuery):
    open = fields.Boolean(load_default=False)
    overdue = fields.Boolean(load_default=False)


@bp.post("/paper-files/<path:code>/check-out")
@requires(*MANAGE)
@bp.input(CheckOutIn, location="json", arg_name="body")
@bp.output(LoanOut, status_code=201)
@bp.doc(summary="Xuất kho hồ sơ giấy — sổ xuất (Check out)", responses=ERRORS)
def check_out(code: str, body: dict[str, Any]) -> dict[str, Any]:
    return paper_service.check_out(services(), identity(), code, **body).to_dict()


@bp.post("/paper-files/<path:code>/check-in")
@requires(*MANAGE)
@bp.input(CheckInIn, location="json", arg_name="body")
@bp.output(LoanOut)
@bp.doc(summary="Nhập lại kho hồ sơ giấy — sổ nhập (Check in)", responses=ERRORS)
def check_in(code: str, body: dict[str, Any]) -> dict[str, Any]:
    condition = body["condition"]
    return paper_service.check_in(
        services(), identity(), code, condition=PaperCondition(condition) if condition else None,
        move_to=_place(body["move_to"]), note=body["note"]).to_dict()


@bp.get("/paper-loans")
@requires(*MANAGE)
@bp.input(LoanQuery, location="query", arg_name="query")
@bp.output(LoanPage)
@bp.doc(summary="Lượt mượn hồ sơ giấy; overdue=true: quá hạn trả (Loans)", responses=ERRORS)
def list_loans(query: dict[str, Any]) -> dict[str, Any]:
    views, total = paper_service.list_loans(services(), identity(), open_only=query["open"],
                                            overdue_only=query["overdue"], page=query["page"],
                                            size=query["size"])
    return paged([v.to_dict() for v in views], total, query["page"], query["size"])


# -- file plans -----------------------------------------------------------------------------

class PlanEntryIn(Schema):
    file_code = fields.String(required=True, validate=[validators.Length(min=1, max=100), TEXT])
    title = _text(1000, required=True)
    maintenance = fields.String(load_default=None, allow_none=True,
                                validate=validators.OneOf(codelist("maintenance").codes))


class PlanIn(Schema):
    entries = fields.List(fields.Nested(PlanEntryIn), required=True,
                          validate=validators.Length(min=1,
                                                     max=paper_service.MAX_PLAN_ENTRIES))


class PlanEntryOut(Schema):
    file_code = fields.String(required=True)
    title = fields.String(required=True)
    maintenance = fields.String(allow_none=True)
    submitted = fields.Boolean(required=True)
    record = fields.String(allow_none=True)


class PlanOut(Schema):
    agency = fields.String(required=True)
    year = fields.Integer(required=True)
    planned = fields.Integer(required=True)
    submitted = fields.Integer(required=True)
    percent = fields.Float(required=True)
    entries = fields.List(fields.Nested(PlanEntryOut), required=True)


@bp.post("/file-plans/<organ_id>/<int:year>")
@requires(*MANAGE)
@bp.input(PlanIn, location="json", arg_name="body")
@bp.output(PlanOut, status_code=201)
@bp.doc(summary="Thêm hồ sơ vào danh mục hồ sơ năm (Add to an annual file plan)",
        responses={**ERRORS, 422: "Dữ liệu không hợp lệ (KHO007)"})
def add_plan(organ_id: str, year: int, body: dict[str, Any]) -> dict[str, Any]:
    return paper_service.add_plan_entries(services(), identity(), agency=organ_id, year=year,
                                          entries=body["entries"]).to_dict()


@bp.get("/file-plans/<organ_id>/<int:year>")
@requires(*MANAGE)
@bp.output(PlanOut)
@bp.doc(summary="Danh mục hồ sơ năm và số đã nộp lưu (A file plan and how much is in)",
        responses={**ERRORS, 422: "Năm không hợp lệ (KHO007)"})
def get_plan(organ_id: str, year: int) -> dict[str, Any]:
    return paper_service.file_plan(services(), identity(), agency=organ_id,
                                   year=year).to_dict()


# -- digitisation queue ---------------------------------------------------------------------

class ScoreOut(Schema):
    total = fields.Integer(required=True)
    permanent = fields.Integer(required=True, metadata={"description": "Điểm bảo quản vĩnh viễn"})
    uses = fields.Integer(required=True, metadata={"description": "Số lần được khai thác"})
    use_points = fields.Integer(required=True)
    condition = fields.String(required=True)
    condition_points = fields.Integer(required=True)
    override = fields.Integer(required=True)
    override_reason = fields.String(allow_none=True)


class QueueOut(Schema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    fonds = fields.String(allow_none=True)
    maintenance = fields.String(required=True)
    page_count = fields.Integer(required=True)
    state = fields.String(required=True)
    score = fields.Nested(ScoreOut, required=True)


QueuePage = page_of(QueueOut, "DigitisationQueuePage")


class QueueQuery(PageQuery):
    fonds = fields.String(load_default=None, validate=[validators.Length(min=1, max=20), TEXT])
    include_done = fields.Boolean(load_default=False)


class OverrideIn(Schema):
    points = fields.Integer(required=True, validate=validators.Range(min=-100, max=100))
    reason = _text(1000, required=True)


class StateIn(Schema):
    state = _choice(DigitisationState, required=True)
    pages = fields.Integer(load_default=None, allow_none=True,
                           validate=validators.Range(min=0, max=1_000_000))
    objid = _text(200)


class ProgressOut(Schema):
    fonds = fields.String(allow_none=True)
    units = fields.Integer(required=True, metadata={"description": "Số đơn vị bảo quản"})
    pages = fields.Integer(required=True)
    units_by_state = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    pages_by_state = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class ProgressList(Schema):
    items = fields.List(fields.Nested(ProgressOut), required=True)


class ProgressQuery(Schema):
    fonds = fields.String(load_default=None, validate=[validators.Length(min=1, max=20), TEXT])


@bp.get("/digitisation-queue")
@requires(*MANAGE)
@bp.input(QueueQuery, location="query", arg_name="query")
@bp.output(QueuePage)
@bp.doc(summary="Hàng đợi số hóa theo điểm ưu tiên (The digitisation queue)", responses=ERRORS)
def get_queue(query: dict[str, Any]) -> dict[str, Any]:
    rows, total = queue_service.queue(services(), identity(), fonds=query["fonds"],
                                      include_done=query["include_done"], page=query["page"],
                                      size=query["size"])
    return paged([r.to_dict() for r in rows], total, query["page"], query["size"])


@bp.get("/digitisation-queue/<path:code>")
@requires(*MANAGE)
@bp.output(QueueOut)
@bp.doc(summary="Điểm ưu tiên của một hồ sơ giấy (One hồ sơ's priority)", responses=ERRORS)
def get_queue_entry(code: str) -> dict[str, Any]:
    return queue_service.entry(services(), identity(), code).to_dict()


@bp.put("/digitisation-queue/<path:code>/override")
@requires(*MANAGE)
@bp.input(OverrideIn, location="json", arg_name="body")
@bp.output(QueueOut)
@bp.doc(summary="Điều chỉnh điểm ưu tiên, có lý do (Override the priority)", responses=ERRORS)
def set_override(code: str, body: dict[str, Any]) -> dict[str, Any]:
    return queue_service.set_override(services(), identity(), code, **body).to_dict()


@bp.post("/digitisation-queue/<path:code>/state")
@requires(*MANAGE)
@bp.input(StateIn, location="json", arg_name="body")
@bp.output(QueueOut)
@bp.doc(summary="Chuyển bước số hóa: planned → in_progress → done → verified (Next step)",
        responses=ERRORS)
def advance(code: str, body: dict[str, Any]) -> dict[str, Any]:
    return queue_service.advance(services(), identity(), code,
                                 state=DigitisationState(body["state"]), pages=body["pages"],
                                 objid=body["objid"]).to_dict()


@bp.get("/digitisation-progress")
@requires(*MANAGE)
@bp.input(ProgressQuery, location="query", arg_name="query")
@bp.output(ProgressList)
@bp.doc(summary="Tiến độ số hóa theo phông (Progress per fonds)", responses=ERRORS)
def get_progress(query: dict[str, Any]) -> dict[str, Any]:
    return {"items": [p.to_dict() for p in queue_service.progress(services(), identity(),
                                                                  fonds=query["fonds"])]}
