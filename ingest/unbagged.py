"""TT 05 packages that arrive without a BagIt wrapper: their METS is their manifest.

TT 05 never mentions BagIt, so vendor systems send the SIP tree itself (a folder, or a ZIP/TAR
of ``METS.xml``, ``metadata/``, ``representations/``, ``schemas/``). Such a package is known by
a ``METS.xml`` and no ``bagit.txt`` at its root (after unwrapping a single top folder), and is
read into the same ``BagReport`` a bag gives, so every later step runs as for a bag: paths keep
the ``data/`` prefix of a bag's payload, and the SHA-256 ``CHECKSUM`` and ``SIZE`` that the two
METS declare take the place of the payload manifest (compared in the one read pass, METS007).

Decisions, made to protect the records: every file must carry a fixity the agency declared, so
a file that neither METS lists is refused (``BAG115``), as BagIt refuses a payload file missing
from its manifest; a listed file that is missing (``METS005``), a wrong ``SIZE`` (``METS006``),
an entry without a SHA-256 ``CHECKSUM`` (``METS008``: TT 05 requires SHA-256, so an MD5 is
refused as it is in a bag's METS), an unsafe href (``METS004``) or one path declared with two
checksums (``BAG116``) are refused before any byte is read. The root ``METS.xml`` is the
manifest itself and has no declared digest: its SHA-256 is recorded in the validation event.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from ingest.bag import CHUNK, BagReport, PayloadFile
from preservation.errors import KhosoError
from preservation.issues import Report
from preservation.packaging.mets import REP_METS_HREF
from preservation.packaging.read import MetsFile, read_mets

ROOT_METS = "METS.xml"
_METS = ((ROOT_METS, False), (REP_METS_HREF, True))


class SubmissionForm(str, Enum):
    """How a SIP arrived; recorded in the AIP's PREMIS and printed by ``khoso bag validate``."""

    BAGIT = "BagIt bag"
    UNBAGGED = "TT 05 package without BagIt"

    def label(self, lang: str = "vi") -> str:
        vi = {"BAGIT": "túi BagIt", "UNBAGGED": "gói TT 05 không có BagIt"}[self.name]
        return vi if lang == "vi" else self.value


def detect(root: Path) -> SubmissionForm | None:
    """UNBAGGED for a ``METS.xml`` without ``bagit.txt`` at ``root``; BAGIT for a
    ``bagit.txt``; None for neither (the BagIt reader then says what is missing)."""
    if (root / "bagit.txt").is_file():
        return SubmissionForm.BAGIT
    if (root / ROOT_METS).is_file() and not (root / ROOT_METS).is_symlink():
        return SubmissionForm.UNBAGGED
    return None


@dataclass(frozen=True)
class UnbaggedPackage:
    bag: BagReport  # payload paths under ``data/``; entries hold the METS SHA-256 values
    mets_sha256: str | None  # of the root METS.xml as received (it declares no digest of itself)


def read_unbagged(root: Path, *, verify: bool = False) -> UnbaggedPackage:
    """Read the package at ``root`` as a bag whose manifest is its METS; ``verify`` also hashes
    every file and compares it (``khoso bag validate``; ingest does that in its read pass)."""
    report = Report()
    report.add("BAG113", ROOT_METS, file=root.name)
    on_disk = _walk(root, report)
    declared: dict[str, str] = {}  # path -> lowercase SHA-256 as the METS declares it
    listed: set[str] = {ROOT_METS}  # with or without a usable checksum
    read = [_declare_all(root, rel, rep, on_disk, declared, listed, report)
            for rel, rep in _METS if rel in on_disk]  # no rep1 METS: the root's METS005
    if all(read):  # an unreadable METS lists nothing: its files are not "unlisted"
        for rel in sorted(set(on_disk) - listed):
            report.add("BAG115", rel, file=rel)
    mets_sha256 = _sha256(root / ROOT_METS) if ROOT_METS in on_disk else None
    files = {f"data/{p}": PayloadFile(f"data/{p}", s, {}) for p, s in sorted(on_disk.items())}
    entries = {(False, "sha256"): {f"data/{p}": d for p, d in declared.items()}}
    bag = BagReport(root, report, manifests=("sha256",), files=files, entries=entries)
    if not verify or not report.ok:
        return UnbaggedPackage(bag, mets_sha256)
    for rel in sorted(on_disk):
        digest = _sha256(root / rel)
        files[f"data/{rel}"] = PayloadFile(f"data/{rel}", on_disk[rel], {"sha256": digest})
        expected = declared.get(rel)
        if expected is not None and expected != digest:
            report.add("METS007", rel, href=rel, declared=expected.upper(), actual=digest.upper())
    bag = BagReport(root, report, manifests=("sha256",), files=files, entries=entries,
                    verified=True)
    return UnbaggedPackage(bag, mets_sha256)


def _declare_all(root: Path, rel: str, rep: bool, on_disk: dict[str, int],
                 declared: dict[str, str], listed: set[str], report: Report) -> bool:
    """Every file entry and mdRef of one METS becomes a declared digest, or an issue; False
    when the METS cannot be read at all."""
    try:
        doc, _ = read_mets(root / rel, rep=rep, where=rel)  # its own issues: validate_sip's
    except KhosoError as exc:  # unsafe or not well-formed: no manifest to read
        report.add(exc.code, rel, **exc.issue.params)
        return False
    entries: list[MetsFile] = [*doc.dmd.values(), *doc.files.values()]
    if doc.premis is not None:
        entries.append(doc.premis)
    for entry in entries:
        if entry.path is None:
            report.add("METS004", rel, href=entry.href, reason=entry.unsafe)
            continue
        size = on_disk.get(entry.path)
        if size is None:
            report.add("METS005", rel, href=entry.href)
            continue
        listed.add(entry.path)
        if entry.size is not None and entry.size != size:
            report.add("METS006", rel, href=entry.href, declared=entry.size, actual=size)
        if not entry.checksum or (entry.checksum_type or "").upper() != "SHA-256":
            report.add("METS008", rel, href=entry.href, algorithm=entry.checksum_type)
            continue
        first = declared.setdefault(entry.path, entry.checksum)
        if first != entry.checksum:
            report.add("BAG116", entry.path, file=entry.path, first=first.upper(),
                       second=entry.checksum.upper())
    return True


def _walk(root: Path, report: Report) -> dict[str, int]:
    """Sizes of every regular file under ``root``, from a walk that follows no link."""
    files: dict[str, int] = {}
    stack = [("", str(root))]
    while stack:
        prefix, folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            report.add("BAG024", prefix or ".", file=prefix or ".", reason=exc.strerror or str(exc))
            continue
        for e in entries:
            rel = prefix + e.name
            try:
                rel.encode("utf-8")
                st = e.stat(follow_symlinks=False)
            except UnicodeEncodeError:  # an undecodable name (surrogate escapes)
                shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                report.add("BAG032", shown, file=shown)
                continue
            except OSError as exc:
                report.add("BAG024", rel, file=rel, reason=exc.strerror or str(exc))
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append((rel + "/", e.path))
            elif stat.S_ISREG(st.st_mode):
                files[rel] = st.st_size
            else:
                kind = "symlink" if stat.S_ISLNK(st.st_mode) else "special file"
                report.add("BAG025", rel, file=rel, kind=kind)
    return files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
