"""Every metadata issue code is declared once and used; every code used is declared."""

from __future__ import annotations

import json
import re
from pathlib import Path

from preservation.issues import issue_catalog

ROOT = Path(__file__).resolve().parents[3]
CODE = re.compile(r"""["']((?:XML|EAD|ID|DATE|RET)\d{3})["']""")


def _declared() -> set[str]:
    path = ROOT / "preservation" / "data" / "issues" / "metadata.json"
    return set(json.loads(path.read_text(encoding="utf-8")))


def _used() -> set[str]:
    found: set[str] = set()
    for source in (ROOT / "preservation" / "metadata").glob("*.py"):
        found |= set(CODE.findall(source.read_text(encoding="utf-8")))
    return found


def test_declared_codes_are_used_and_used_codes_declared() -> None:
    declared, used = _declared(), _used()
    assert declared - used == set(), "declared but never used"
    assert used - declared == set(), "used but not declared"


def test_catalog_loads_and_messages_are_bilingual() -> None:
    catalog = issue_catalog()
    for code in _declared():
        definition = catalog[code]
        assert definition.vi != definition.en
        assert re.search(r"[ạ-ỹđăâêôơư]", definition.vi.lower()), code
        names_vi = set(re.findall(r"{(\w+)}", definition.vi))
        assert names_vi == set(re.findall(r"{(\w+)}", definition.en)), code
