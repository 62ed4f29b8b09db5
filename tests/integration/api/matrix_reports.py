"""Role matrix of the reports and the dashboard (issue #15). The list answers every signed-in
caller (with the reports that caller may run); a report answers the roles its specification
names (catalog lists: archivists; preservation registers: archivists and preservation
officers), an admin always; an unknown report is 404 for everyone signed in."""

ROLES = ("anonymous", "admin", "archivist", "agency_submitter", "preservation_officer", "reader")


def _signed_in(status: int) -> dict[str, int]:
    return {r: (401 if r == "anonymous" else status) for r in ROLES}


def _only(allowed: int, *roles: str) -> dict[str, int]:
    return {r: 401 if r == "anonymous" else allowed if r in ("admin", *roles) else 403
            for r in ROLES}


ROWS = [
    ("GET", "/api/v1/reports", _signed_in(200)),
    ("GET", "/api/v1/reports/khong_co_bao_cao_nay", _signed_in(404)),
    ("GET", "/api/v1/reports/muc_luc_ho_so?fonds={fond_code}", _only(200, "archivist")),
    ("GET", "/api/v1/reports/muc_luc_ho_so?fonds={fond_code}&format=pdf",
     _only(200, "archivist")),
    ("GET", "/api/v1/reports/muc_luc_van_ban?hoso={file_code}&format=xlsx",
     _only(200, "archivist")),
    ("GET", "/api/v1/reports/danh_muc_vinh_vien?format=csv", _only(200, "archivist")),
    ("GET", "/api/v1/reports/bien_ban_kiem_tra?format=pdf",
     _only(200, "archivist", "preservation_officer")),
    ("GET", "/api/v1/reports/so_khai_thac?format=xlsx", _only(200, "archivist")),
    ("GET", "/api/v1/dashboard", _only(200, "archivist", "preservation_officer")),
]
