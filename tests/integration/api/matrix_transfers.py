"""The status each role gets from the transfer endpoints (nộp lưu): archivists and admins only.
An unknown transfer is 404 for them; a registration too soon is 422 (TRF001) whoever may ask."""

ARCHIVISTS = {"anonymous": 401, "admin": 200, "archivist": 200, "agency_submitter": 403,
              "preservation_officer": 403, "reader": 403}
UNKNOWN_FOR_ARCHIVISTS = {**ARCHIVISTS, "admin": 404, "archivist": 404}
TOO_SOON = {**ARCHIVISTS, "admin": 422, "archivist": 422}
T = "/api/v1/transfers/00000000-0000-0000-0000-000000000000"
RECEIPT = {"job": "j", "objid": "o", "arcFileCode": "X.H49.2001.1",
           "files": [{"path": "data/a.pdf", "size": 1, "sha256": "0" * 64}]}

ROWS = [
    ("GET", "/api/v1/transfers", ARCHIVISTS),
    ("POST", "/api/v1/transfers", TOO_SOON,
     {"json": {"fonds": "P623", "title": "Nộp lưu", "receiver": "TTLT",
               "planned_on": "2026-01-01", "records": ["TTLTNA.H49.64.33.2001.160"]}}),
    ("GET", "/api/v1/transfers/due", ARCHIVISTS),
    ("GET", "/api/v1/transfers/warnings", ARCHIVISTS),
    ("GET", T, UNKNOWN_FOR_ARCHIVISTS),
    ("POST", f"{T}/send", UNKNOWN_FOR_ARCHIVISTS,
     {"json": {"remote_url": "http://127.0.0.1:9", "token": "t"}}),
    ("POST", f"{T}/refresh", UNKNOWN_FOR_ARCHIVISTS, {"json": {"token": "t"}}),
    ("POST", f"{T}/export", UNKNOWN_FOR_ARCHIVISTS),
    ("POST", f"{T}/receipts", UNKNOWN_FOR_ARCHIVISTS, {"json": RECEIPT}),
    ("POST", f"{T}/complete", UNKNOWN_FOR_ARCHIVISTS),
    ("GET", f"{T}/handover", UNKNOWN_FOR_ARCHIVISTS),
]
