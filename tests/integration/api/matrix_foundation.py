"""Role-matrix rows of the endpoints that came before #14 (``test_role_matrix``)."""

OFFICERS = {"anonymous": 401, "admin": 200, "archivist": 200, "agency_submitter": 403,
            "preservation_officer": 200, "reader": 403}

ROWS = [
    ("GET", "/api/v1/packages", OFFICERS),
    ("GET", "/api/v1/packages/{objid}", OFFICERS),
    ("GET", "/api/v1/openapi.json", {role: 200 for role in OFFICERS}),
    ("GET", "/healthz", {role: 200 for role in OFFICERS}),
]
