"""Expected status of every submission, upload and job endpoint for each role, for a request
without a body (what the shared role-matrix test sends) or about an unknown id.

A bodiless submission by a role that may submit is 415 (no serialised bag type), a bodiless
upload creation 400 (``SUB008``: no ``Upload-Length``); unknown uploads and jobs are 404.
Uploads belong to their creator: even an admin gets 404 for another's. The tus discovery
(``OPTIONS /api/v1/uploads``) answers anyone.
"""

JOB = "00000000-0000-0000-0000-000000000000"
UPLOAD = "0" * 32
SUBMITTERS_ONLY = {"anonymous": 401, "reader": 403, "preservation_officer": 403}

ROWS = [
    ("POST", "/api/v1/submissions",
     {**SUBMITTERS_ONLY, "admin": 415, "archivist": 415, "agency_submitter": 415}),
    ("GET", "/api/v1/submissions/keys/urn:P623:uuid-0",
     {**SUBMITTERS_ONLY, "admin": 200, "archivist": 200, "agency_submitter": 200}),
    ("OPTIONS", "/api/v1/uploads",
     {"anonymous": 204, "reader": 204, "preservation_officer": 204, "admin": 204,
      "archivist": 204, "agency_submitter": 204}),
    ("POST", "/api/v1/uploads",
     {**SUBMITTERS_ONLY, "admin": 400, "archivist": 400, "agency_submitter": 400}),
    ("GET", f"/api/v1/uploads/{UPLOAD}",
     {**SUBMITTERS_ONLY, "admin": 404, "archivist": 404, "agency_submitter": 404}),
    ("HEAD", f"/api/v1/uploads/{UPLOAD}",
     {**SUBMITTERS_ONLY, "admin": 404, "archivist": 404, "agency_submitter": 404}),
    ("PATCH", f"/api/v1/uploads/{UPLOAD}",
     {**SUBMITTERS_ONLY, "admin": 404, "archivist": 404, "agency_submitter": 404}),
    ("DELETE", f"/api/v1/uploads/{UPLOAD}",
     {**SUBMITTERS_ONLY, "admin": 404, "archivist": 404, "agency_submitter": 404}),
    ("GET", "/api/v1/jobs",
     {"anonymous": 401, "reader": 403, "preservation_officer": 200, "admin": 200,
      "archivist": 200, "agency_submitter": 200}),
    ("GET", f"/api/v1/jobs/{JOB}",
     {"anonymous": 401, "reader": 403, "preservation_officer": 404, "admin": 404,
      "archivist": 404, "agency_submitter": 404}),
    ("GET", f"/api/v1/jobs/{JOB}/receipt",
     {"anonymous": 401, "reader": 403, "preservation_officer": 404, "admin": 404,
      "archivist": 404, "agency_submitter": 404}),
    ("GET", f"/api/v1/jobs/{JOB}/receipt.pdf",
     {"anonymous": 401, "reader": 403, "preservation_officer": 404, "admin": 404,
      "archivist": 404, "agency_submitter": 404}),
]
