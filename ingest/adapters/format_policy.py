"""The TT 05 allowed-formats table as data (``profiles/format-policy.json``) and its check.

The PUID decides (accept / warn / refuse); extension and declared MIME only warn, because agency
systems often name files loosely while the bytes are fine. The table lives in a JSON file so an
archivist can read and change it without touching code.

A ``warn`` rule with ``migrate_to`` names a preservation format khoso can migrate the file to
(``access_api.services.migration``); FMT005 then says what will happen to it, per
``KHOSO_MIGRATE_ON_INGEST``: queued once the AIP is stored, or available to an officer. A message
never promises a conversion the archive's setting does not make.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Literal

from ingest.adapters.formats import FormatIdentification
from ingest.adapters.migrate import TARGET_NAMES
from preservation.catalog.vocab import MigrateOnIngest, MigrationTarget
from preservation.issues import Issue
from profiles import PROFILE_DIR

DEFAULT_POLICY = PROFILE_DIR / "format-policy.json"


_QUEUED = ("Khi gói AIP được lưu, kho xếp lịch chuyển đổi tệp sang {target}; nếu chuyển đổi "
           "được, bản chuyển đổi được thêm vào một phiên bản AIP mới, bản gốc giữ nguyên.",
           "Once the AIP is stored, the archive queues the file's migration to {target}; if it "
           "succeeds, the migrated copy is added in a new AIP version and the original is kept "
           "unchanged.")
_AVAILABLE = ("Kho không tự chuyển đổi khi tiếp nhận; cán bộ bảo quản có thể chuyển đổi tệp sang "
              "{target} (lệnh khoso migrate hoặc API POST /api/v1/migrations) thành một phiên bản "
              "AIP mới, bản gốc giữ nguyên.",
              "The archive does not convert it at ingest; a preservation officer can migrate the "
              "file to {target} (khoso migrate or POST /api/v1/migrations) into a new AIP "
              "version, keeping the original unchanged.")


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
    migrate_to: MigrationTarget | None = None


@dataclass(frozen=True)
class FormatPolicy:
    name: str
    version: str
    rules: tuple[FormatRule, ...]
    migrate_on_ingest: MigrateOnIngest = MigrateOnIngest.OFF

    @classmethod
    def load(cls, path: str | os.PathLike[str] = DEFAULT_POLICY,
             migrate_on_ingest: str = MigrateOnIngest.OFF) -> FormatPolicy:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        rules = []
        seen: set[str] = set()
        for f in data["formats"]:
            if f["decision"] not in ("accept", "warn"):
                raise ValueError(f"{path}: unknown decision {f['decision']!r} for {f['name']}")
            dup = seen.intersection(f["puids"])
            if dup:
                raise ValueError(f"{path}: PUID(s) {sorted(dup)} listed twice")
            target = f.get("migrate_to")
            if target is not None and (f["decision"] != "warn"
                                       or target not in set(MigrationTarget)):
                raise ValueError(f"{path}: migrate_to {target!r} of {f['name']} needs a warn "
                                 f"rule and one of {sorted(MigrationTarget)}")
            seen.update(f["puids"])
            rules.append(FormatRule(
                f["kind"], f.get("group", ""), f["name"], f["decision"], tuple(f["puids"]),
                tuple(m.lower() for m in f.get("mime", [])),
                tuple(e.lower() for e in f.get("extensions", [])),
                f.get("reason", ""), f.get("reason_en", ""),
                MigrationTarget(target) if target else None,
            ))
        return cls(data.get("name", ""), data.get("version", ""), tuple(rules),
                   MigrateOnIngest(migrate_on_ingest))

    def migratable(self) -> dict[str, MigrationTarget]:
        """PUID → the format khoso migrates it to."""
        return {p: r.migrate_to for r in self.rules if r.migrate_to for p in r.puids}

    def reasons(self, rule: FormatRule) -> tuple[str, str]:
        """FMT005's reason (vi, en): the rule's, plus what the archive does about it."""
        if rule.migrate_to is None:
            return rule.reason, rule.reason_en
        target = TARGET_NAMES[rule.migrate_to]
        vi, en = (_QUEUED if self.migrate_on_ingest == MigrateOnIngest.QUEUE else _AVAILABLE)
        return (" ".join(x for x in (rule.reason, vi.format(target=target)) if x),
                " ".join(x for x in (rule.reason_en, en.format(target=target)) if x))

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
            reason, reason_en = self.reasons(rule)
            issues.append(Issue("FMT005", where, {**params, "reason": reason,
                                                  "reason_en": reason_en}))
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
