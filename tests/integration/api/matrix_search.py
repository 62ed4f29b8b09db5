"""Expected status of the search endpoints for every role (the shared role-matrix test calls
them all): anyone may search; what each one finds is narrowed by mode, never refused."""

ALL_200 = {"anonymous": 200, "admin": 200, "archivist": 200, "agency_submitter": 200,
           "preservation_officer": 200, "reader": 200}

ROWS = [
    ("GET", "/api/v1/search", ALL_200),
    ("GET", "/api/v1/search?q=ho+so&from=2001&to=2030&kind=document&size=5", ALL_200),
]
