"""Every packaging issue code is declared once, bilingual (Vietnamese with diacritics), and used."""

from __future__ import annotations

import json
import re
from pathlib import Path

from preservation.issues import issue_catalog

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [*(ROOT / "preservation" / "packaging").glob("*.py"), ROOT / "ingest" / "sip.py",
           ROOT / "ingest" / "sip_build.py"]


def test_declared_codes_are_used_and_bilingual() -> None:
    declared = set(json.loads((ROOT / "preservation/data/issues/packaging.json").read_text("utf-8")))
    used: set[str] = set()
    for source in SOURCES:
        used |= set(re.findall(r'"((?:METS|PREM|SIP)\d{3})"', source.read_text(encoding="utf-8")))
    assert declared - used == set() and used - declared == set()
    for code in declared:
        definition = issue_catalog()[code]
        assert re.search(r"[ạ-ỹđăâêôơư]", definition.vi.lower()), code
        assert set(re.findall(r"{(\w+)}", definition.vi)) == set(re.findall(r"{(\w+)}", definition.en))
