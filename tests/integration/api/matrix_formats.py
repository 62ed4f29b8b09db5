"""The status each role gets from the format register and format migrations (preservation
officers and administrators only). The migration row is a dry run: the world's AIP holds a
plain PDF (fmt/276) and nothing is queued."""

OFFICERS_ONLY = {"anonymous": 401, "admin": 200, "archivist": 403, "agency_submitter": 403,
                 "preservation_officer": 200, "reader": 403}
QUEUED = {**OFFICERS_ONLY, "admin": 202, "preservation_officer": 202}

ROWS = [
    ("GET", "/api/v1/formats", OFFICERS_ONLY),
    ("GET", "/api/v1/formats?at_risk=true&fonds={fond_code}", OFFICERS_ONLY),
    ("POST", "/api/v1/migrations", QUEUED, {"json": {"puid": "fmt/276", "dry_run": True}}),
]
