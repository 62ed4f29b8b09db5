"""The status each role gets from the disposal endpoints (#15), for the shared role-matrix test.
Archivists (and admins) scan, list, hold, propose and execute; council members are staff
(preservation officers too) and see cases; only an admin decides. Unknown cases, holds and
records are 404 for those who may ask; readers and agency systems get 403."""

UNKNOWN = "00000000-0000-0000-0000-000000000000"
MANAGERS = {"anonymous": 401, "admin": 200, "archivist": 200, "agency_submitter": 403,
            "preservation_officer": 403, "reader": 403}
MANAGERS_UNKNOWN = {**MANAGERS, "admin": 404, "archivist": 404}
STAFF = {**MANAGERS, "preservation_officer": 200}
STAFF_UNKNOWN = {**STAFF, "admin": 404, "archivist": 404, "preservation_officer": 404}
ADMIN_UNKNOWN = {**MANAGERS, "admin": 404, "archivist": 403}
NEW_CASE = {"title": "Hủy", "explanation": "Thuyết minh", "records": ["KHONG.CO.HO.SO"],
            "council": ["u-archivist"]}

ROWS = [
    ("POST", "/api/v1/disposal/scan", MANAGERS),
    ("GET", "/api/v1/disposal/listing", MANAGERS),
    ("GET", "/api/v1/disposal/holds", MANAGERS),
    ("POST", "/api/v1/disposal/holds", MANAGERS_UNKNOWN,
     {"json": {"record": "KHONG.CO.HO.SO", "reason": "Thanh tra"}}),
    ("POST", "/api/v1/disposal/holds/999999/lift", MANAGERS_UNKNOWN,
     {"json": {"reason": "Xong thanh tra"}}),
    ("POST", "/api/v1/disposal/cases", {**MANAGERS, "admin": 422, "archivist": 422},
     {"json": NEW_CASE}),
    ("GET", "/api/v1/disposal/cases", STAFF),
    ("GET", f"/api/v1/disposal/cases/{UNKNOWN}", STAFF_UNKNOWN),
    ("POST", f"/api/v1/disposal/cases/{UNKNOWN}/records", MANAGERS_UNKNOWN,
     {"json": {"record": "{file_code}"}}),
    ("POST", f"/api/v1/disposal/cases/{UNKNOWN}/opinions", STAFF_UNKNOWN,
     {"json": {"opinion": "agree"}}),
    ("POST", f"/api/v1/disposal/cases/{UNKNOWN}/decision?number=1&date=2026-12-07",
     ADMIN_UNKNOWN, {"data": b"%PDF-1.7", "headers": {"Content-Type": "application/pdf"}}),
    ("POST", f"/api/v1/disposal/cases/{UNKNOWN}/execute", MANAGERS_UNKNOWN),
]
