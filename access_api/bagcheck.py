"""``khoso bag validate``: unpack (when serialised) into a temporary folder, then RFC 8493 + profile.

The summary says whether the bag is complete and lists ``fetch.txt`` with what is absent, so a
holey bag reads "valid but incomplete" rather than valid: nothing is ever fetched.
A folder's names are checked by the rules an ingest applies to it (``stage_directory``), so
the command warns and refuses what the ingest of the same folder would.
A TT 05 package without BagIt (``ingest.unbagged``) is checked against its METS instead: every
file listed, sizes and SHA-256 checksums verified; the BagIt profile does not apply to it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ingest.bag import validate_bag
from ingest.profile import validate_profile
from ingest.unbagged import ROOT_METS, SubmissionForm, detect, read_unbagged
from ingest.unpack import ArchiveKind, stage_directory, unpack
from preservation.issues import Report
from profiles import load_profile


def check_bag(path: Path, profile_name: str | None) -> tuple[Report, dict[str, Any]]:
    report = Report()
    summary: dict[str, Any] = {"path": str(path), "files": 0, "bytes": 0, "profile": profile_name,
                               "complete": True, "fetch": []}
    with tempfile.TemporaryDirectory(prefix="khoso-bag-") as tmp:
        kind: ArchiveKind = "dir"
        root = path
        if path.is_file():
            result = unpack(path, Path(tmp) / "bag")
            report.extend(result.report.issues)
            if not result.ok:
                return report, summary
            assert result.kind is not None and result.bag_root is not None  # unpacked
            kind, root = result.kind, result.bag_root
        else:  # a folder: the names an ingest checks (PKG203 hidden characters, PKG015...)
            names = stage_directory(path)
            report.extend(names.report.issues)
            if not names.ok:
                return report, summary
        form = detect(root)
        if form is SubmissionForm.UNBAGGED:  # its METS is its manifest; no BagIt profile
            bag = read_unbagged(root, verify=True).bag
            summary["profile"] = None
        else:
            shown = path.name if root == Path(tmp) / "bag" else (
                path.name if root == path else f"{path.name}/{root.name}")
            bag = validate_bag(root, processes=2, name=shown)
            if form is None and "BAG001" in bag.report.codes():
                bag.report.add("BAG114", ROOT_METS, file=path.name)
        report.extend(bag.report.issues)
        if form is None and bag.version is not None:
            form = SubmissionForm.BAGIT  # read as a bag although bagit.txt is missing
        absent = {e.path for e in bag.missing}
        summary.update(files=bag.payload_count, bytes=bag.payload_bytes, complete=bag.complete,
                       fetch=[{"url": e.url, "length": e.length, "path": e.path,
                               "present": e.path not in absent} for e in bag.fetch],
                       form=form.value if form else None)
        if profile_name and form is not SubmissionForm.UNBAGGED:
            report.extend(validate_profile(bag, load_profile(profile_name), kind=kind).issues)
    return report, summary
