"""Expected status of the digitisation endpoint for each role, for a request without a body:
only archivists (and admins) may digitise; theirs is 415 (no ZIP), everyone else's 401/403."""

ROWS = [
    ("POST", "/api/v1/digitisations?hoso=H49.64.33.2001.170&fond={fond_code}",
     {"anonymous": 401, "reader": 403, "agency_submitter": 403, "preservation_officer": 403,
      "admin": 415, "archivist": 415}),
]
