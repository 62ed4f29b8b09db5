"""The TT 05 allowed-formats table as data (``profiles/format-policy.json``) and its check.

The PUID decides (accept / warn / refuse); extension and declared MIME only warn, because agency
systems often name files loosely while the bytes are fine. The table lives in a JSON file so an
archivist can read and change it without touching code.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Literal

from ingest.adapters.formats import FormatIdentification
from preservation.issues import Issue
from profiles import PROFILE_DIR

DEFAULT_POLICY = PROFILE_DIR / "format-policy.json"


@dataclass(frozen=True)
class FormatRule:
    kind: str  # DOC / OTHER / PIC / MEDIA, as in TT 05
    group: str
    name: str
    decision: Literal["accept", "warn"]
    puids: tuple[str, ...]
    mime: tuple[str, ...]
    extensions: tuple[str, ...]
    reason: str = ""
    reason_en: str = ""


@dataclass(frozen=True)
class FormatPolicy:
    name: str
    version: str
    rules: tuple[FormatRule, ...]

    @classmethod
    def load(cls, path: str | os.PathLike[str] = DEFAULT_POLICY) -> FormatPolicy:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        rules = []
        seen: set[str] = set()
        for f in data["formats"]:
            if f["decision"] not in ("accept", "warn"):
                raise ValueError(f"{path}: unknown decision {f['decision']!r} for {f['name']}")
            dup = seen.intersection(f["puids"])
            if dup:
                raise ValueError(f"{path}: PUID(s) {sorted(dup)} listed twice")
            seen.update(f["puids"])
            rules.append(FormatRule(
                f["kind"], f.get("group", ""), f["name"], f["decision"], tuple(f["puids"]),
                tuple(m.lower() for m in f.get("mime", [])),
                tuple(e.lower() for e in f.get("extensions", [])),
                f.get("reason", ""), f.get("reason_en", ""),
            ))
        return cls(data.get("name", ""), data.get("version", ""), tuple(rules))

    def rule_for(self, puid: str | None) -> FormatRule | None:
        return next((r for r in self.rules if puid in r.puids), None)

    def check(self, ident: FormatIdentification, filename: str | None = None,
              declared_mime: str | None = None) -> list[Issue]:
        """Issues for one identified file; an empty list means accepted without remarks."""
        where = filename or ident.path
        if ident.empty:
            return [Issue("FMT002", where)]
        if ident.error and not ident.known:
            return [Issue("FMT001", where, {"detail": ident.error})]
        if not ident.known:
            return [Issue("FMT003", where)]
        fmt = " ".join(x for x in (ident.format_name, ident.version) if x) or ident.puid
        params = {"puid": ident.puid, "format": fmt}
        rule = self.rule_for(ident.puid)
        if rule is None:
            return [Issue("FMT004", where, params)]
        issues = []
        if rule.decision == "warn":
            issues.append(Issue("FMT005", where, {**params, "reason": rule.reason,
                                                  "reason_en": rule.reason_en}))
        if ident.extension_only:
            issues.append(Issue("FMT008", where, {"basis": ident.basis}))
        ext = PurePath(where).suffix.lower().lstrip(".")
        if rule.extensions and ext not in rule.extensions:
            issues.append(Issue("FMT006", where, {**params, "extension": ext,
                                                  "expected": ", ".join(rule.extensions)}))
        if declared_mime and declared_mime.split(";")[0].strip().lower() not in rule.mime:
            issues.append(Issue("FMT007", where, {**params, "declared": declared_mime,
                                                  "expected": ", ".join(rule.mime)}))
        return issues
