"""A report's parameters are checked all at once before anything is rendered: each problem has
its code and names the parameter; the registry holds what the issue asks for."""

from __future__ import annotations

import datetime as dt

import pytest

from access_api.services.base import Identity, ServiceContext, UserRole
from access_api.services.reports import REPORTS, service
from access_api.services.reports.spec import ReportParam, ReportParams
from preservation.errors import Forbidden, KhosoError, NotFound, ValidationFailed

OURS = {"muc_luc_ho_so", "muc_luc_van_ban", "danh_muc_co_thoi_han", "danh_muc_vinh_vien",
        "so_khai_thac", "nhat_ky_sao_luu", "bien_ban_kiem_tra", "bien_ban_xu_ly_su_co"}


def problems(name: str, **given) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        service.parameters(REPORTS[name], **given)
    assert caught.value.code == "RPT010"
    return [(i.code, i.path) for i in caught.value.report.issues]


def test_our_reports_are_registered_with_two_language_titles_and_unique_columns():
    assert OURS <= set(REPORTS)
    for spec in REPORTS.values():
        assert spec.title.vi and spec.title.en and spec.columns
        assert len({c.key for c in spec.columns}) == len(spec.columns), spec.name
        assert not spec.required & spec.accepted


def test_every_problem_at_once():
    assert problems("muc_luc_ho_so", hoso="X", since="2024-02-30", until="2024-01-01") == [
        ("RPT004", "since"), ("RPT002", "fonds"), ("RPT003", "since"), ("RPT003", "hoso"),
        ("RPT003", "until")]


def test_dates_and_period():
    assert problems("so_khai_thac", since="01/02/2024") == [("RPT004", "since")]
    assert problems("so_khai_thac", since="2024-02-02", until="2024-02-01") == [
        ("RPT005", "until")]
    params = service.parameters(REPORTS["so_khai_thac"], since="2024-02-01",
                                until="2024-02-01")
    start, end = params.window()
    assert (end - start) == dt.timedelta(days=1) and start.utcoffset() == dt.timedelta(hours=7)


def test_window_is_open_without_dates():
    assert ReportParams().window() == (None, None)
    assert ReportParams(fonds="P1").given() == frozenset({ReportParam.FONDS})


def test_unknown_report_format_and_role(tmp_path):
    with pytest.raises(NotFound) as caught:
        service.spec_of("../../etc/passwd")
    assert caught.value.code == "RPT001" and "muc_luc_ho_so" in caught.value.message("vi")
    with pytest.raises(KhosoError) as bad:
        service.report_format("docx")
    assert bad.value.code == "RPT009"
    reader = Identity("doc-gia", frozenset({UserRole.READER}))
    assert service.available(reader) == []
    with pytest.raises(Forbidden):
        service.prepare(ServiceContext.__new__(ServiceContext), reader, "muc_luc_ho_so",
                        fonds="P1")
    officer = Identity("bao-quan", frozenset({UserRole.PRESERVATION_OFFICER}))
    assert {s.name for s in service.available(officer)} >= {
        "nhat_ky_sao_luu", "bien_ban_kiem_tra", "bien_ban_xu_ly_su_co"}
    assert "muc_luc_ho_so" not in {s.name for s in service.available(officer)}


def test_the_fourteen_reports_the_archive_prints_are_all_registered():
    """#15: the registers and reports archivists print, by the names ``khoso report`` takes."""
    assert set(REPORTS) == {
        "muc_luc_ho_so", "muc_luc_van_ban", "danh_muc_het_gia_tri", "danh_muc_co_thoi_han",
        "danh_muc_vinh_vien", "so_khai_thac", "so_nhap", "so_xuat", "thiet_bi_kho",
        "nhat_ky_sao_luu", "bien_ban_kiem_tra", "bien_ban_xu_ly_su_co", "ho_so_huy",
        "bien_ban_giao_nhan"}
