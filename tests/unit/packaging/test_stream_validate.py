"""A large METS is validated while streamed; it must judge exactly as the whole-tree path does."""

from __future__ import annotations

import pytest

import preservation.packaging.validate as v
from preservation.packaging.validate import validate_mets
from tests.support.mets import rep_mets, root_mets

BAD = {
    "doctype": lambda x: x.replace(b"?>", b'?><!DOCTYPE mets [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1),
    "latin1": lambda x: x.replace(b"<mets ", b"<!-- \xe9 --><mets ", 1),
    "utf16": lambda x: b"\xff\xfe" + x,
    "nul": lambda x: x.replace(b"?>", b"?>\x00", 1),
    "broken": lambda x: x[: len(x) // 2],
    "schema": lambda x: x.replace(b"<metsHdr", b"<bogus/><metsHdr", 1),
    "declared": lambda x: x.replace(b"encoding='UTF-8'", b"encoding='ISO-8859-1'", 1),
}


def codes(report):
    return sorted({i.code for i in report.issues})


@pytest.mark.parametrize("name", sorted(BAD))
def test_streamed_and_tree_validation_agree(tmp_path, monkeypatch, name):
    good = root_mets("SIP", "hoso")
    bad = BAD[name](good)
    assert bad != good
    path = tmp_path / "METS.xml"
    path.write_bytes(bad)
    whole = validate_mets(path)
    monkeypatch.setattr(v, "STREAM_FROM", 0)
    streamed = validate_mets(path)
    assert codes(streamed) == codes(whole) and codes(whole)
    path.write_bytes(good)
    assert validate_mets(path).issues == []


def test_a_big_rep_mets_streams(tmp_path, monkeypatch):
    path = tmp_path / "METS.xml"
    path.write_bytes(rep_mets("AIP", "hoso"))
    monkeypatch.setattr(v, "STREAM_FROM", 0)
    assert validate_mets(path).issues == []
    monkeypatch.setattr(v, "MAX_METS_BYTES", 100)
    assert codes(validate_mets(path, max_bytes=100)) == ["XML003"]
