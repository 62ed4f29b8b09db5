"""Expected status of the metadata-extraction endpoints (#16) for each role: archivists and
administrators run and confirm; readers, agency systems and preservation officers get 403.
Running needs a document that exists (the matrix world's first, a văn bản) and text in the
body; reading and confirming are asked of a document that does not exist."""

ARCHIVISTS = {"anonymous": 401, "admin": 201, "archivist": 201, "agency_submitter": 403,
              "preservation_officer": 403, "reader": 403}
ARCHIVISTS_UNKNOWN = {**ARCHIVISTS, "admin": 404, "archivist": 404}
PAGE = "SỞ NỘI VỤ\nSố: 12/QĐ-SNV\nHà Nội, ngày 5 tháng 3 năm 2024\nQUYẾT ĐỊNH\nVề việc thử"
UNKNOWN = "/api/v1/documents/NO.SUCH.RECORD.0000001/extraction"

ROWS = [
    ("POST", "/api/v1/documents/{doc_code}/extraction", ARCHIVISTS, {"json": {"text": PAGE}}),
    ("GET", UNKNOWN, ARCHIVISTS_UNKNOWN),
    ("POST", f"{UNKNOWN}/confirm", ARCHIVISTS_UNKNOWN, {"json": {}}),
]
