"""Issue #12: an AIP holding the SIP's documentation and other metadata stays whole through a
metadata version (its METS still lists them) and a catalog rebuild (they come back as the same
bitstreams, with their virus checks)."""

from __future__ import annotations

import sqlalchemy as sa

from preservation.catalog.models import Bitstream, Package, PremisEvent
from preservation.packaging.read import read_mets
from storage.filesystem import FilesystemStorage
from storage.rebuild import rebuild_catalog
from tests.support.hostile import EXTRAS, with_extras
from tests.support.hostile import SIP_REP1 as REP1
from tests.support.rebuild import ARCHIVE
from tests.support.sips import make_sip
from tests.support.versions import EAD, retitle, update


def _bitstreams(catalog, objid: str) -> dict[tuple[int, str], tuple[int, str]]:
    with catalog.session() as s:
        return {(p.version, b.path): (b.size, b.sha256) for b, p in s.execute(
            sa.select(Bitstream, Package).join(Package).where(Package.objid == objid))}


def test_documentation_survives_a_metadata_version_and_a_rebuild(khoso, target):
    outcome = khoso.ingest(with_extras(make_sip(khoso.tmp / "sip"), EXTRAS))
    assert outcome.accepted, outcome.report.to_dict()
    root = khoso.replica("replica1")
    (v1,) = root.glob(f"{ARCHIVE}/*/*/v1")
    changed = update(khoso, outcome.objid,
                     package_ead=retitle((v1 / EAD).read_bytes(), "Hồ sơ (đã sửa)"))
    assert changed.accepted, changed.report
    v2 = v1.parent / "v2"
    mets, _ = read_mets((v2 / "data/METS.xml").read_bytes())
    rep, _ = read_mets((v2 / f"data/{REP1}METS.xml").read_bytes(), rep=True)
    assert sorted(f.path for f in mets.files_in("Documentation")) == sorted(
        p for p in EXTRAS if p.startswith("documentation/"))
    assert [f.path for f in mets.other.values()] == ["metadata/other/danh-muc.csv"]
    assert [f.path for f in rep.files_in("Documentation")] == [f"{REP1}documentation/ghi-chu.txt"]
    assert [f.path for f in rep.other.values()] == [f"{REP1}metadata/other/ky-thuat.xml"]

    report = rebuild_catalog(target, FilesystemStorage(root, name="replica1"),
                             archive_code=ARCHIVE)

    assert report.problems == []
    assert (report.aips_found, report.aips_rebuilt) == (2, 2)
    original, rebuilt = _bitstreams(khoso.catalog, outcome.objid), _bitstreams(target,
                                                                               outcome.objid)
    assert rebuilt == original
    for rel, data in EXTRAS.items():
        assert rebuilt[(1, f"data/{rel}")][0] == len(data)
    with target.session() as s:
        checked = set(s.scalars(sa.select(PremisEvent.object_identifier).where(
            PremisEvent.event_type == "virus check", PremisEvent.bitstream_id.is_not(None))))
    assert set(EXTRAS) <= checked
