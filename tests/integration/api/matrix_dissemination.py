"""Role matrix of the access request, DIP and access register endpoints (issue #14).

Each row is what a call *without a body* to an unknown id gets: authentication and roles are
checked before the body (``requires`` sits right under the route), so anonymous is 401 and a
role that may not act is 403; a signed-in caller who may act reaches the body check (422 for
a POST whose body is required) or the lookup (404 for an unknown id). An unknown id is 404 for
everyone signed in, so an id never tells whether a request or DIP exists.
"""

ROLES = ("anonymous", "admin", "archivist", "agency_submitter", "preservation_officer", "reader")
UNKNOWN = "00000000-0000-0000-0000-000000000000"


def _all(signed_in: int) -> dict[str, int]:
    return {r: (401 if r == "anonymous" else signed_in) for r in ROLES}


def _deciders(allowed: int) -> dict[str, int]:
    return {"anonymous": 401, "admin": allowed, "archivist": allowed, "agency_submitter": 403,
            "preservation_officer": 403, "reader": 403}


ROWS = [
    ("POST", "/api/v1/access-requests", _all(422)),
    ("GET", "/api/v1/access-requests", _all(200)),
    ("GET", "/api/v1/access-requests?mine=1&status=pending", _all(200)),
    ("GET", f"/api/v1/access-requests/{UNKNOWN}", _all(404)),
    ("POST", f"/api/v1/access-requests/{UNKNOWN}/approve", _deciders(404)),
    ("POST", f"/api/v1/access-requests/{UNKNOWN}/refuse", _deciders(422)),
    ("POST", f"/api/v1/access-requests/{UNKNOWN}/withdraw", _all(404)),
    ("POST", "/api/v1/dips", _all(422)),
    ("GET", f"/api/v1/dips/{UNKNOWN}", _all(404)),
    ("GET", f"/api/v1/dips/{UNKNOWN}/download", _all(404)),
    ("GET", "/api/v1/reports/so_khai_thac", _deciders(200)),
    ("GET", "/api/v1/reports/so_khai_thac?format=csv", _deciders(200)),
]
