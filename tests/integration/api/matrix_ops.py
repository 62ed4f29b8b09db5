"""The status each role gets from the ops endpoints (health, metrics, the preservation officers'
AIP endpoints, OAI-PMH), for the shared role-matrix test. Unknown AIPs are 404 for those who
may ask; ``/healthz`` is 200 while the catalog answers (``degraded`` included); ``/metrics``
with ``KHOSO_METRICS_PUBLIC`` false (the default)."""

OFFICERS_ONLY = {"anonymous": 401, "admin": 200, "archivist": 403, "agency_submitter": 403,
                 "preservation_officer": 200, "reader": 403}
OFFICERS_ONLY_UNKNOWN = {**OFFICERS_ONLY, "admin": 404, "preservation_officer": 404}
EVERYONE = {"anonymous": 200, "admin": 200, "archivist": 200, "agency_submitter": 200,
            "preservation_officer": 200, "reader": 200}
UNKNOWN = "urn:P000:uuid-00000000-0000-0000-0000-000000000000"

ROWS = [
    ("GET", "/healthz", EVERYONE),
    ("GET", "/metrics", OFFICERS_ONLY),
    ("GET", "/api/v1/aips", OFFICERS_ONLY),
    ("GET", "/api/v1/aips?critical=true", OFFICERS_ONLY),
    ("GET", f"/api/v1/aips/{UNKNOWN}", OFFICERS_ONLY_UNKNOWN),
    ("GET", f"/api/v1/aips/{UNKNOWN}/events", OFFICERS_ONLY_UNKNOWN),
    ("POST", f"/api/v1/aips/{UNKNOWN}/audit", OFFICERS_ONLY_UNKNOWN),
    ("GET", "/api/v1/audit/summary", OFFICERS_ONLY),
    ("GET", "/oai?verb=Identify", EVERYONE),
    ("POST", "/oai?verb=Identify", EVERYONE),
    ("GET", "/oai?verb=ListSets", EVERYONE),
    ("GET", "/oai?verb=ListMetadataFormats", EVERYONE),
]
