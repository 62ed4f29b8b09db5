"""FMT005 says what the archive's setting does with a file khoso can migrate, and nothing
more; the policy's migrate_to is checked when loaded; the PREMIS derivation relationship a
migrated version writes validates against PREMIS 3."""

from __future__ import annotations

import io
import json

import pytest

from ingest.adapters.format_policy import DEFAULT_POLICY, FormatPolicy
from ingest.adapters.formats import FormatIdentification
from preservation.catalog.vocab import MigrationTarget
from preservation.packaging.aip.migrated_version import migrated_path
from preservation.packaging.premis import PremisWriter, Relationship
from preservation.packaging.validate import validate_premis

PLAIN_PDF = FormatIdentification("a.pdf", "fmt/276", "Acrobat PDF 1.7 - Portable Document Format",
                                 "1.7", basis="byte match")


def fmt005(mode: str, ident: FormatIdentification = PLAIN_PDF, name: str = "a.pdf"):
    (issue,) = [i for i in FormatPolicy.load(migrate_on_ingest=mode).check(ident, name)
                if i.code == "FMT005"]
    return issue.message("vi"), issue.message("en")


def test_off_says_an_officer_can_migrate_it_and_promises_nothing() -> None:
    vi, en = fmt005("off")
    assert "PDF/A hai lớp" in vi and "khoso migrate" in vi and "PDF/A-2b" in vi
    assert "không tự chuyển đổi" in vi and "bản gốc giữ nguyên" in vi
    assert "does not convert it at ingest" in en and "POST /api/v1/migrations" in en
    assert "will convert" not in en and "queues" not in en


def test_queue_says_the_migration_is_queued_once_stored() -> None:
    vi, en = fmt005("queue")
    assert "xếp lịch chuyển đổi tệp sang PDF/A-2b" in vi and "khoso migrate" not in vi
    assert "queues the file's migration to PDF/A-2b" in en


def test_gif87a_names_tiff_and_a_warning_with_no_migration_promises_none() -> None:
    gif = FormatIdentification("b.gif", "fmt/3", "Graphics Interchange Format", "87a",
                               basis="byte match")
    assert "TIFF" in fmt005("queue", gif, "b.gif")[0]
    old_word = FormatIdentification("c.doc", "fmt/39", "Microsoft Word", "6.0",
                                    basis="byte match")
    vi, en = fmt005("queue", old_word, "c.doc")
    assert "kho" not in vi.lower().split(":", 1)[1] and "archive" not in en


def test_every_migrate_to_names_a_warned_format() -> None:
    policy = FormatPolicy.load()
    targets = policy.migratable()
    assert targets["fmt/276"] == MigrationTarget.PDFA_2B and targets["fmt/3"] == \
        MigrationTarget.TIFF
    assert all(policy.rule_for(p).decision == "warn" for p in targets)
    assert "fmt/477" not in targets and "fmt/11" not in targets


@pytest.mark.parametrize(("patch", "word"), [
    ({"migrate_to": "jpeg2000"}, "jpeg2000"),
    ({"migrate_to": "tiff", "decision": "accept"}, "warn rule"),
])
def test_a_bad_migrate_to_is_refused_when_the_policy_loads(tmp_path, patch, word) -> None:
    data = json.loads(DEFAULT_POLICY.read_text(encoding="utf-8"))
    data["formats"][0].update(patch)
    (tmp_path / "p.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=word):
        FormatPolicy.load(tmp_path / "p.json")


def test_an_unknown_setting_is_refused() -> None:
    with pytest.raises(ValueError):
        FormatPolicy.load(migrate_on_ingest="sometimes")


def test_migrated_files_are_named_beside_their_original() -> None:
    assert migrated_path("data/representations/rep1/data/QĐ 12.pdf",
                         MigrationTarget.PDFA_2B) == \
        "data/representations/rep1/data/QĐ 12.pdfa-2b.pdf"
    assert migrated_path("data/representations/rep1/data/sub/anh.gif", MigrationTarget.TIFF) \
        == "data/representations/rep1/data/sub/anh.tiff.tif"


def test_derivation_relationships_validate_against_premis_3() -> None:
    out = io.BytesIO()
    with PremisWriter(out) as w:
        w.object("filepath", "representations/rep1/data/a.pdf", size=10, sha256="ab" * 32,
                 puid="fmt/276", format_name="PDF",
                 relationships=[Relationship("derivation", "is source of", "filepath",
                                             "representations/rep1/data/a.pdfa-2b.pdf",
                                             "5b1f0c3e-0000-4000-8000-000000000001")])
        w.object("filepath", "representations/rep1/data/a.pdfa-2b.pdf", size=12,
                 sha256="cd" * 32, puid="fmt/477", format_name="PDF/A-2b",
                 relationships=[Relationship("derivation", "has source", "filepath",
                                             "representations/rep1/data/a.pdf")],
                 linking_events=[("UUID", "5b1f0c3e-0000-4000-8000-000000000001")])
    data = out.getvalue()
    assert validate_premis(data).ok, validate_premis(data).issues
    assert b"<relationshipSubType>has source</relationshipSubType>" in data
