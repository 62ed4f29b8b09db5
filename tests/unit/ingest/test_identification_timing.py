"""When format identification starts: the part validate_sip cannot hide starts with the read
pass, the rest after it; identify_formats gets every answer, in order, either way."""

from __future__ import annotations

from concurrent.futures import Future

import bagit

from ingest.adapters.fakes import FakeIdentifier, FakeScanner
from ingest.adapters.format_policy import FormatPolicy
from ingest.bag import validate_bag
from ingest.context import IngestContext, Services
from ingest.steps import identify_formats as step
from ingest.steps.identify_formats import early_share, identify_formats
from ingest.steps.scan_viruses import scan_viruses
from preservation.settings import load_settings


class Background(FakeIdentifier):
    """The ``submit``/``result`` interface of the helper process, recording each batch."""

    def __init__(self) -> None:
        super().__init__()
        self.submitted: list[list[str]] = []

    def submit(self, paths, workers=2) -> Future:
        self.submitted.append([p.name for p in paths])
        future: Future = Future()
        future.set_result(self.identify_many(paths))
        return future

    def result(self, future, paths, workers=2):
        return future.result()


def test_the_early_share_is_what_validate_sip_cannot_hide():
    docs = [f"data/representations/rep1/data/{i}.pdf" for i in range(100)] + \
        [f"data/representations/rep1/metadata/descriptive/EAD_doc_{i}.xml" for i in range(100)]
    assert early_share(docs, 100) == 0  # one EAD per file: all identified beside validate_sip
    attach = docs[:100] + ["data/METS.xml", "data/metadata/descriptive/EAD.xml"]
    assert early_share(attach, 100) == 97  # one document, 100 attachments: nearly all early
    assert early_share(docs[100:], 0) == 0


def sip_bag(tmp_path, content: int, documents: int):
    src = tmp_path / "bag"
    (src / "representations/rep1/data").mkdir(parents=True)
    (src / "representations/rep1/metadata/descriptive").mkdir(parents=True)
    for i in range(content):
        (src / f"representations/rep1/data/{i:03d}.pdf").write_bytes(b"%%PDF-1.4 %d" % i)
    for i in range(documents):
        (src / f"representations/rep1/metadata/descriptive/EAD_doc_{i:03d}.xml").write_bytes(
            b"<ead/>")
    bagit.make_bag(str(src), checksums=["sha256"])
    identifier = Background()
    settings = load_settings({"KHOSO_DATA_DIR": str(tmp_path / "data")})
    ctx = IngestContext(settings, Services(FakeScanner(), identifier, FormatPolicy.load()),
                        src, tmp_path / "work", "job-1", bag_root=src)
    ctx.bag = validate_bag(src, fast=True)
    ctx.workspace.mkdir()
    return ctx, identifier


def test_parts_started_before_and_after_the_read_pass_cover_every_file_once(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setattr(step, "BATCH", 4)
    ctx, identifier = sip_bag(tmp_path, content=10, documents=2)
    assert early_share(sorted(ctx.bag.files), 10) == 7
    scan_viruses(ctx)
    names = [n for batch in identifier.submitted for n in batch]
    assert names == [f"{i:03d}.pdf" for i in range(10)]  # in order, each once
    assert [len(b) for b in identifier.submitted] == [4, 3, 3]  # 7 early, 3 after the pass
    result = identify_formats(ctx)
    assert not result.issues
    assert {ctx.files[p].format.puid for p in ctx.files if p.endswith(".pdf")} == {"fmt/477"}
    assert all(ctx.files[p].format is None for p in ctx.files if p.endswith(".xml"))


def test_a_failed_read_pass_starts_nothing_more(tmp_path):
    ctx, identifier = sip_bag(tmp_path, content=2, documents=4)  # nothing early
    (ctx.bag_root / "data/representations/rep1/data/000.pdf").write_bytes(b"changed")
    result = scan_viruses(ctx)
    assert "BAG019" in {i.code for i in result.issues}
    assert identifier.submitted == []
