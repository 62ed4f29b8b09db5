"""Expected status of every catalog and file endpoint for each role, with a target that does
not exist (the shared role-matrix test calls them all). The catalog is a public catalogue:
anyone may read it (what they see is filtered by mode); file content needs an account."""

EVERYONE = ("anonymous", "admin", "archivist", "agency_submitter", "preservation_officer",
            "reader")


def _all(status: int, anonymous: int | None = None) -> dict[str, int]:
    out = dict.fromkeys(EVERYONE, status)
    if anonymous is not None:
        out["anonymous"] = anonymous
    return out


ROWS = [
    ("GET", "/api/v1/fonds", _all(200)),
    ("GET", "/api/v1/fonds?page=2&size=5", _all(200)),
    ("GET", "/api/v1/fonds/NO-SUCH-FONDS", _all(404)),
    ("GET", "/api/v1/records/NO.SUCH.RECORD", _all(404)),
    ("GET", "/api/v1/records/NO.SUCH.RECORD?format=xml", _all(404)),
    ("GET", "/api/v1/documents/NO.SUCH.RECORD.0000001", _all(404)),
    ("GET", "/api/v1/documents/NO.SUCH.RECORD.0000001?format=xml", _all(404)),
    ("GET", "/api/v1/documents/NO.SUCH.RECORD.0000001/files/a.pdf", _all(404, anonymous=401)),
    ("HEAD", "/api/v1/documents/NO.SUCH.RECORD.0000001/files/a.pdf", _all(404, anonymous=401)),
    ("GET", "/api/v1/documents/NO.SUCH.RECORD.0000001/files/a.pdf/copy",
     _all(404, anonymous=401)),
]
