"""A metadata correction reads a verified copy: the first location's copy of the current EAD
rotted, the second's is good. The correction used to read the first location that answered
and refuse with VER009 ("SHA-256 mismatch"); it now reads the good copy, makes v2, and flags
the bad one as the audit would (``last_check_result`` mismatch, a failed "fixity check"
event), so that ``khoso audit --repair`` takes it first. Refused only when no location holds
a good copy (SQLite and PostgreSQL, two filesystem replicas)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from access_api.services import versions
from access_api.services.base import Identity, ServiceContext
from preservation.catalog.models import Package, PremisEvent, StoredCopy
from preservation.errors import KhosoError, ValidationFailed
from tests.support.khoso import Khoso
from tests.support.versions import EAD, REPLICAS, ingest, retitle

pytestmark = pytest.mark.integration
TITLE = "Hồ sơ về việc thành lập Sở Nội vụ tỉnh Nghệ An (đã sửa)"


def _rot(path) -> bytes:
    good = path.read_bytes()
    path.chmod(0o644)
    path.write_bytes(good.replace(b"<title>", b"<title>X", 1))
    return good


def _correct(khoso: Khoso, objid: str, ead: bytes):
    return versions.update_metadata(
        ServiceContext(khoso.settings), Identity.system("officer-2"), objid,
        package_ead=retitle(ead, TITLE), document_eads={}, reason="Sửa tiêu đề hồ sơ")


def _checks(khoso: Khoso) -> dict[str, str]:
    with khoso.catalog.session() as s:
        return {c.location: c.last_check_result for c in s.scalars(
            sa.select(StoredCopy).join(Package).where(Package.version == 1))}


def test_a_rotted_first_copy_is_passed_over_and_flagged(khoso: Khoso) -> None:
    objid, entity = ingest(khoso)
    good = _rot(khoso.replica("replica1") / entity / "v1" / EAD)

    outcome = _correct(khoso, objid, good)

    assert outcome.accepted and outcome.version == 2, outcome.report
    for name in REPLICAS:  # v2 written whole in both locations, with the new title
        assert TITLE.encode() in (khoso.replica(name) / entity / "v2" / EAD).read_bytes()
    assert _checks(khoso) == {"replica1": "mismatch", "replica2": "ok"}
    with khoso.catalog.session() as s:
        failed = s.scalars(sa.select(PremisEvent).where(
            PremisEvent.event_type == "fixity check", PremisEvent.outcome == "failure")).all()
    assert len(failed) == 1 and failed[0].outcome_data["mismatch"] == 1
    assert EAD in (failed[0].outcome_detail or "")


def test_no_good_copy_anywhere_refuses_with_ver009(khoso: Khoso) -> None:
    objid, entity = ingest(khoso)
    good = b""
    for name in REPLICAS:
        good = _rot(khoso.replica(name) / entity / "v1" / EAD)

    with pytest.raises(KhosoError) as refused:
        _correct(khoso, objid, good)

    assert refused.value.code == "VER010"  # the refusal's report, with VER009 naming both
    assert isinstance(refused.value, ValidationFailed)
    (issue,) = refused.value.report.issues
    assert issue.code == "VER009"
    assert "replica1: mismatch" in issue.message("en")
    assert "replica2: mismatch" in issue.message("en")
    with khoso.catalog.session() as s:
        assert [p.version for p in s.scalars(sa.select(Package))] == [1]
    assert _checks(khoso) == {"replica1": "mismatch", "replica2": "mismatch"}
