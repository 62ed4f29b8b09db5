"""The audit of what lies next to and inside a stored copy, beyond the objects the catalog lists.

Two things the fixity check of a copy cannot see by itself:

* the package's history files (``{entity}/_events/*.jsonl``, ``storage.sidecar``), written to
  every location so that one location alone rebuilds the catalog: a batch missing or damaged
  in one location is restored from another (``repair``). The catalog keeps no digest of them;
  a batch's name ends with the first 8 hex digits of its SHA-256, which is what is checked;
* files inside the copy's folder that the AIP's manifests do not list ("foreign" files): not
  ours to judge or delete, so they are only reported, for a person to look at.

The state files of destruction cases not yet executed (``{archive}/_disposal/{case}/
state-NNNNNN-sha8.json``, ``storage.disposal_state``) are kept the same way, by no copy: they
are compared across locations once per audit run and restored like history batches.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from preservation.issues import Issue
from preservation.packaging.aip.layout import DISPOSAL_DIR, parse_disposal_key
from storage.disposal_state import parse_state_key, sealed
from storage.errors import ObjectMissing, StorageError
from storage.filesystem import FilesystemStorage
from storage.protocol import Storage
from storage.sidecar import batch_sequence, events_prefix, split_package_prefix


class HistoryProblem(StrEnum):
    MISSING = "missing"
    DAMAGED = "damaged"


class HistoryKind(StrEnum):
    """Which write-once file kept in every location a fix is about (its issue codes)."""

    EVENTS = "events"  # a package's _events batch: AUD043 / AUD044
    DISPOSAL_STATE = "disposal_state"  # a destruction case's state file: AUD210 / AUD211


_PROBLEM_VI = {HistoryProblem.MISSING: "mất", HistoryProblem.DAMAGED: "hỏng"}


@dataclass(frozen=True)
class HistoryFix:
    """One history batch found missing or damaged in a location, and what became of it."""

    key: str
    location: str
    problem: HistoryProblem
    source: str | None = None  # restored from this location
    reason: str = ""
    kind: HistoryKind = HistoryKind.EVENTS

    @property
    def restored(self) -> bool:
        return self.source is not None

    def issue(self) -> Issue:
        params = {"key": self.key, "location": self.location, "problem_en": self.problem,
                  "problem_vi": _PROBLEM_VI[self.problem],
                  "source": self.source, "reason": self.reason}
        if self.kind is HistoryKind.DISPOSAL_STATE:
            return Issue("AUD210" if self.restored else "AUD211", self.key, params)
        return Issue("AUD043" if self.restored else "AUD044", self.key, params)


def foreign_files(storage: Storage, copy_key: str, expected: Collection[str]) -> tuple[str, ...]:
    """Bag paths under the copy's folder that its manifests (the catalog's bitstreams) do not
    list; () when the location cannot be listed (the fixity check reports that)."""
    base = copy_key.rstrip("/") + "/"
    known = set(expected)
    # a link in place of one of the package's folders is a damaged copy (its objects verify
    # as mismatches, repair replaces it), not a foreign file
    known.update(path.rsplit("/", i)[0] for path in expected for i in range(1, path.count("/") + 1))
    try:
        # A folder backend also names the links planted there (it never follows them).
        keys = storage.list(base, links=True) if isinstance(storage, FilesystemStorage) \
            else storage.list(base)
        return tuple(path for key in keys if (path := key.removeprefix(base)) not in known)
    except StorageError:
        return ()


def foreign_issues(location: str, copy_key: str, paths: Collection[str]) -> list[Issue]:
    return [Issue("AUD042", path, {"location": location, "path": path,
                                   "key": f"{copy_key}/{path}"}) for path in paths]


def _batch_intact(key: str, data: bytes) -> bool:
    return hashlib.sha256(data).hexdigest()[:8] == key.rsplit("-", 1)[-1].removesuffix(".jsonl")


def _read(storage: Storage, key: str) -> bytes | None:
    """The batch's bytes, or None when they are not there as a plain object (a link…)."""
    try:
        with storage.open(key) as f:
            return f.read()
    except ObjectMissing:
        return None
    except StorageError as exc:
        if exc.code == "STO008":  # a link or a folder in its place: damaged
            return None
        raise


def check_history(copy_key: str, location: str, storages: Mapping[str, Storage], *,
                  repair: bool) -> list[HistoryFix]:
    """Compare the package's history batches in ``location`` with every other location's;
    restore the missing or damaged ones from a location holding them intact when ``repair``.

    Best effort: a location that cannot be listed or read is left for a later run."""
    try:
        entity, _ = split_package_prefix(copy_key)
    except ValueError:
        return []
    return _compare(events_prefix(entity), lambda k: batch_sequence(k) is not None,
                    _batch_intact, HistoryKind.EVENTS, location, storages, repair=repair)


def check_disposal_states(archive_code: str, location: str, storages: Mapping[str, Storage], *,
                          repair: bool) -> list[HistoryFix]:
    """The destruction cases' state files in ``location`` against every other location's,
    restored from an intact copy (its name carries the first 8 hex of its SHA-256) when
    ``repair``; a location that cannot be listed or read is left for a later run."""
    return _compare(f"{archive_code}/{DISPOSAL_DIR}/",
                    lambda k: parse_disposal_key(k) is not None and parse_state_key(k) is not None,
                    sealed, HistoryKind.DISPOSAL_STATE, location, storages, repair=repair)


def _compare(prefix: str, member: Callable[[str], bool], intact: Callable[[str, bytes], bool],
             kind: HistoryKind, location: str, storages: Mapping[str, Storage], *,
             repair: bool) -> list[HistoryFix]:
    listed: dict[str, set[str]] = {}
    for name, storage in storages.items():
        try:
            listed[name] = {k for k in storage.list(prefix) if member(k)}
        except StorageError:
            if name == location:
                return []
    target = storages.get(location)
    if target is None or location not in listed:
        return []
    fixes: list[HistoryFix] = []
    for key in sorted(set().union(*listed.values())):
        problem = HistoryProblem.MISSING
        if key in listed[location]:
            try:
                data = _read(target, key)
            except StorageError:
                continue  # unreadable says nothing about the bytes
            if data is not None and intact(key, data):
                continue
            problem = HistoryProblem.DAMAGED
        fixes.append(_restore(key, location, problem, target, storages, listed, intact, kind)
                     if repair else HistoryFix(key, location, problem,
                                               reason="audit without --repair", kind=kind))
    return fixes


def _restore(key: str, location: str, problem: HistoryProblem, target: Storage,
             storages: Mapping[str, Storage], listed: Mapping[str, set[str]],
             intact: Callable[[str, bytes], bool], kind: HistoryKind) -> HistoryFix:
    tried = []
    for name, source in storages.items():
        if name == location or key not in listed.get(name, ()):
            continue
        try:
            data = _read(source, key)
        except StorageError as exc:
            tried.append(f"{name}: {exc.message('en')}")
            continue
        if data is None or not intact(key, data):
            tried.append(f"{name}: damaged")
            continue
        try:
            # replace: no intact batch is there; at most a damaged one, or a link in its place
            # (a link is not listed, so it looks missing)
            target.put(key, io.BytesIO(data), size=len(data), replace=True)
            again = _read(target, key)
        except StorageError as exc:
            return HistoryFix(key, location, problem, reason=exc.message("vi"), kind=kind)
        if again is not None and intact(key, again):
            return HistoryFix(key, location, problem, source=name, kind=kind)
        tried.append(f"{name}: re-read after writing did not match")
    return HistoryFix(key, location, problem, reason="; ".join(tried) or "no other copy",
                      kind=kind)
