"""Every sheet issue code (``sip.json``) is declared once, used, and bilingual with a clause."""

from __future__ import annotations

import json
import re
from pathlib import Path

from preservation.issues import issue_catalog

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [ROOT / "ingest" / "sip_sheet.py", ROOT / "ingest" / "sip_build.py",
           ROOT / "access_api" / "services" / "sip.py"]


def test_declared_codes_are_used_and_used_codes_declared() -> None:
    entries = json.loads((ROOT / "preservation/data/issues/sip.json").read_text("utf-8"))
    used: set[str] = set()
    for source in SOURCES:
        used |= set(re.findall(r'"((?:SHEET|CODE)\d{3})"', source.read_text(encoding="utf-8")))
    assert set(entries) - used == set() and used - set(entries) == set()
    for code, entry in entries.items():
        definition = issue_catalog()[code]
        assert re.search(r"[ạ-ỹđăâêôơư]", definition.vi.lower()), code
        assert set(re.findall(r"{(\w+)}", definition.vi)) == set(
            re.findall(r"{(\w+)}", definition.en)), code
        assert entry["clause"].strip(), code
