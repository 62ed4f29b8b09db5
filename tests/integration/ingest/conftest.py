"""The ingest fixtures live in ``tests/integration/conftest.py``; re-exported for imports."""

from tests.integration.conftest import (  # noqa: F401
    FOND,
    ORGAN,
    Khoso,
    document_rows,
    make_sip,
    png,
)
