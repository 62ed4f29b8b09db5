"""Role matrix of the paper repository and digitisation queue endpoints (#15/#16).

Archivists and admins manage everything; preservation officers read the repositories and
their equipment (they watch the storage environment) and nothing else; readers and agency
systems get 403, anonymous 401. A call without a body reaches the body check (422) where a
field is required, else the lookup (404 for an unknown code)."""

ROLES = ("anonymous", "admin", "archivist", "agency_submitter", "preservation_officer", "reader")
PAPER = "TTLTNA.K0/G0/H0.1"


def _managers(allowed: int) -> dict[str, int]:
    return {"anonymous": 401, "admin": allowed, "archivist": allowed, "agency_submitter": 403,
            "preservation_officer": 403, "reader": 403}


def _watchers(allowed: int) -> dict[str, int]:
    return {**_managers(allowed), "preservation_officer": allowed}


ROWS = [
    ("POST", "/api/v1/repositories", _managers(422)),
    ("GET", "/api/v1/repositories", _watchers(200)),
    ("GET", "/api/v1/repositories/K0", _watchers(404)),
    ("POST", "/api/v1/repositories/K0/shelves", _managers(422)),
    ("POST", "/api/v1/repositories/K0/boxes", _managers(422)),
    ("POST", "/api/v1/repositories/K0/equipment", _managers(422)),
    ("GET", "/api/v1/equipment?overdue=true", _watchers(200)),
    ("PATCH", "/api/v1/equipment/999999", _managers(404)),
    ("POST", "/api/v1/archive-staff", _managers(422)),
    ("GET", "/api/v1/archive-staff", _managers(200)),
    ("POST", "/api/v1/paper-files", _managers(422)),
    ("GET", "/api/v1/paper-files?checked_out=true", _managers(200)),
    ("GET", f"/api/v1/paper-files/{PAPER}", _managers(404)),
    ("PATCH", f"/api/v1/paper-files/{PAPER}", _managers(404)),
    ("POST", f"/api/v1/paper-files/{PAPER}/check-out", _managers(422)),
    ("POST", f"/api/v1/paper-files/{PAPER}/check-in", _managers(404)),
    ("GET", "/api/v1/paper-loans?overdue=true", _managers(200)),
    ("POST", "/api/v1/file-plans/H49.64.33/2001", _managers(422)),
    ("GET", "/api/v1/file-plans/H49.64.33/2001", _managers(200)),
    ("GET", "/api/v1/digitisation-queue", _managers(200)),
    ("GET", f"/api/v1/digitisation-queue/{PAPER}", _managers(404)),
    ("PUT", f"/api/v1/digitisation-queue/{PAPER}/override", _managers(422)),
    ("POST", f"/api/v1/digitisation-queue/{PAPER}/state", _managers(422)),
    ("GET", "/api/v1/digitisation-progress", _managers(200)),
]
