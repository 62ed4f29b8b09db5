"""The extractor behind real OCR: eight generated NĐ 30/2020 pages (every second one skewed,
blurred, speckled and saved as JPEG 30–50) read by tesseract ``-l vie`` as the digitisation
pipeline runs it, then the fields compared with what was printed."""

from __future__ import annotations

import shutil

import pytest
from rapidfuzz import fuzz

from preservation.metadata.extraction import extract
from tests.support import nd30

SEED = 4242  # neither the benchmark's development seed nor its evaluation seed

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None,
                                reason="tesseract is installed by make install")


@pytest.mark.parametrize("sample", nd30.make_samples(SEED, 8), ids=lambda s: s.name)
def test_fields_read_back_from_ocr_of_a_rendered_page(sample: nd30.Sample, tmp_path) -> None:
    text = nd30.ocr_sample(sample, tmp_path)
    got = extract(text).values()
    t = sample.truth
    assert (got["typeName"], got["codeNumber"], got["codeNotation"], got["issuedDate"],
            got["organName"]) == (t.type_name, t.code_number, t.code_notation, t.issued_date,
                                  t.organ_name), text[:600]
    assert got["subject"] is not None
    assert fuzz.ratio(got["subject"].replace("–", "-"), t.subject.replace("–", "-")) >= 90


def test_the_corpus_is_reproducible_and_half_degraded() -> None:
    first, again = nd30.make_samples(SEED, 8), nd30.make_samples(SEED, 8)
    assert first == again
    assert [s.degraded for s in first] == [False, True] * 4
    assert nd30.page_bytes(first[1]) == nd30.page_bytes(again[1])
    assert nd30.page_bytes(first[1])[1] == "jpg" and nd30.page_bytes(first[0])[1] == "png"
