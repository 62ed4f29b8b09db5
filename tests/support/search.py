"""What the full-text search tests share: the schema objects a search backend owns outside the
models (``preservation.search.backend``), and role tokens for API calls."""

from __future__ import annotations

from typing import Any

BACKEND_TABLE_PREFIX = "search_fts"  # SQLite FTS5: the virtual table and its shadow tables


def owned_by_search_backend(diff: Any) -> bool:
    """An ``alembic.autogenerate.compare_metadata`` difference that is a search backend's own
    object (the FTS5 tables, PostgreSQL's generated ``tsv`` column and its GIN index), which no
    model declares on purpose: each exists on one dialect only."""
    if isinstance(diff, list):  # column modifications come as a list of tuples
        return all(owned_by_search_backend(d) for d in diff)
    kind = diff[0]
    if kind == "remove_table":
        return str(diff[1].name).startswith(BACKEND_TABLE_PREFIX)
    if kind == "remove_column":
        return diff[2] == "search_entry" and diff[3].name == "tsv"
    if kind == "remove_index":
        return diff[1].name == "ix_search_entry_tsv"
    return False


# -- a small catalog to search -------------------------------------------------------------

ORGAN_A = "H49.64.33"  # the khoso fixture's agency
ORGAN_B = "H49.64.34"
ROLES = ("admin", "archivist", "agency_submitter", "preservation_officer", "reader")


def add_aip(s: Any, objid: str, fonds: Any, agency: Any, record: dict[str, Any],
            documents: list[dict[str, Any]]) -> None:
    """A hồ sơ with its documents as ingest registers them (rows only, no AIP stored),
    then indexed as ingest indexes it."""
    from preservation import search
    from preservation.catalog.models import Document, Package, RecordFile

    rf = RecordFile(fonds=fonds, maintenance="01", end_date="2030-12-31", **record)
    s.add(rf)
    s.flush()
    pkg = Package(objid=objid, kind="AIP", version=1, status="active", record_file_id=rf.id,
                  fonds_id=fonds.id, agency_id=agency.id)
    s.add(pkg)
    s.flush()
    for i, doc in enumerate(documents, 1):
        s.add(Document(record_file=rf, package_id=pkg.id, doc_ordinal=i,
                       doc_code=f"{record['file_code']}.{i:07d}", **doc))
    s.flush()
    search.index_aip(s, objid)


def build_corpus(khoso: Any) -> None:
    """Three hồ sơ in two fonds of two agencies, in every mode:

    - A (P623, agency A, 01): title with "Đảng ủy"; documents 01 (type 02, 2020), 03 (type 05,
      2020), 02 (type 03, 2021)
    - B (P700, agency B, 03): title with "Đảng ủy"; one document (inherits 03)
    - C (P623, agency A, 01): "Đảng ủy" only in its description (ranks below a title match)
    """
    import sqlalchemy as sa

    from preservation.catalog.models import Agency, ArchiveBody, Fonds

    with khoso.catalog.session() as s:
        body = s.scalar(sa.select(ArchiveBody))
        agency_a = s.scalar(sa.select(Agency).where(Agency.organ_id == ORGAN_A))
        agency_b = Agency(organ_id=ORGAN_B, name="UBND huyện Nam Đàn")
        p623 = s.scalar(sa.select(Fonds).where(Fonds.fond_code == "P623"))
        p700 = Fonds(archive_body=body, fond_code="P700", fond_name="Phông Huyện ủy Nam Đàn")
        s.add_all([agency_b, p700])
        s.flush()
        add_aip(s, "urn:test:a", p623, agency_a, {
            "file_code": "P623.2020.01", "mode": "01", "start_date": "2020-01-05",
            "title": "Hồ sơ về việc phê duyệt quy hoạch Đảng ủy xã Nghi Phong",
            "keyword": "quy hoạch"}, [
            {"subject": "Quyết định phê duyệt quy hoạch sử dụng đất", "type_name": "02",
             "issued_date": "2020-03-15", "organ_name": "UBND tỉnh Nghệ An",
             "code_notation": "QĐ-UBND"},
            {"subject": "Báo cáo tuyệt mật tình hình an ninh biên giới", "type_name": "05",
             "issued_date": "2020-06-01", "mode": "03", "organ_name": "Công an tỉnh"},
            {"subject": "Công văn về đất đai ven biển", "type_name": "03",
             "issued_date": "2021-02-01", "mode": "02", "organ_name": "Sở Tài nguyên"}])
        add_aip(s, "urn:test:b", p700, agency_b, {
            "file_code": "P700.2019.07", "mode": "03", "start_date": "2019-01-01",
            "title": "Hồ sơ mật về quốc phòng của Đảng ủy huyện"}, [
            {"subject": "Kế hoạch tác chiến tuyệt mật", "type_name": "02",
             "issued_date": "2019-04-02"}])
        add_aip(s, "urn:test:c", p623, agency_a, {
            "file_code": "P623.2018.02", "mode": "01", "start_date": "2018-05-01",
            "title": "Hồ sơ hội nghị tổng kết năm 2018",
            "description": "Biên bản hội nghị có ý kiến của Đảng ủy các xã"}, [])


def tokens(khoso: Any) -> dict[str, dict[str, str]]:
    """Authorization headers by role (the agency submitter is bound to agency B), and none
    for ``anonymous``."""
    import sqlalchemy as sa

    from access_api.services.base import UserRole
    from preservation.accounts import create_user, issue_token
    from preservation.catalog.models import Agency

    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    with khoso.catalog.session() as s:
        for role in ROLES:
            user = create_user(s, f"u-{role}", "mật-khẩu-dài-1", [UserRole[role.upper()].value])
            if role == "agency_submitter":
                user.agency_id = s.scalar(sa.select(Agency.id).where(Agency.organ_id == ORGAN_B))
            headers[role] = {"Authorization": f"Bearer {issue_token(s, user, 't').token}"}
    return headers
