"""The pure rules of transfers: the registration notice, the receiving address, and what a
receipt must say to vouch for what was sent."""

from __future__ import annotations

import datetime as dt

import pytest

from access_api.services.transfer_export import CONTENT, agency_file_code, receipt_problem
from access_api.services.transfer_remote import RemoteArchive, check_url
from access_api.services.transfers import add_months
from preservation.errors import ValidationFailed

SENT = [{"path": f"{CONTENT}a.pdf", "size": 3, "sha256": "a" * 64},
        {"path": f"{CONTENT}b/c.png", "size": 5, "sha256": "b" * 64}]


@pytest.mark.parametrize(("day", "months", "expected"), [
    (dt.date(2026, 12, 7), 12, dt.date(2027, 12, 7)),
    (dt.date(2024, 2, 29), 12, dt.date(2025, 2, 28)),
    (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
    (dt.date(2026, 11, 30), 3, dt.date(2027, 2, 28)),
])
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


def test_agency_file_code_drops_only_this_archives_code():
    assert agency_file_code("TTLTNA.H49.64.33.2001.160", "TTLTNA") == "H49.64.33.2001.160"
    assert agency_file_code("H49.64.33.2001.160", "TTLTNA") == "H49.64.33.2001.160"


def _receipt(**changes):
    return {"job": "j", "objid": "o", "arcFileCode": "LS.H49.2001.1",
            "files": [dict(f) for f in SENT] + [{"path": "data/METS.xml", "size": 1,
                                                 "sha256": "c" * 64}], **changes}


def test_a_receipt_listing_every_file_sent_vouches_for_it():
    assert receipt_problem(_receipt(), SENT, "H49.2001.1") is None


@pytest.mark.parametrize(("receipt", "word"), [
    (None, "thiếu"),
    ([], "thiếu"),
    ({"job": "j"}, "thiếu"),
    (_receipt(files="x"), "danh sách"),
    (_receipt(files=[1]), "danh sách"),
    (_receipt(arcFileCode="LS.H49.2001.10"), "mã hồ sơ"),
    (_receipt(arcFileCode=None), "mã hồ sơ"),
    (_receipt(files=SENT[:1]), "c.png"),
    (_receipt(files=[SENT[0], dict(SENT[1], size=6)]), "c.png"),
    (_receipt(files=[SENT[0], dict(SENT[1], path=f"{CONTENT}c.png")]), "c.png"),
])
def test_a_receipt_that_does_not_match_says_why(receipt, word):
    problem = receipt_problem(receipt, SENT, "H49.2001.1")
    assert problem is not None and word in problem.vi and problem.en


@pytest.mark.parametrize("url", ["http://archive.example/", "https://a.example:8443/khoso"])
def test_usable_addresses(url):
    assert check_url(url) == url.rstrip("/")


@pytest.mark.parametrize("url", ["", "ftp://a", "http://", "http://u:p@a", "http://u@a",
                                 "https://a/?t=1", "http://a/#x", "http://a b", "http://a\n",
                                 "javascript:alert(1)", "http://[::1"])
def test_unusable_addresses(url):
    with pytest.raises(ValidationFailed) as err:
        check_url(url)
    assert err.value.code == "TRF017"


def test_the_token_is_not_in_the_repr():
    assert "s3cr3t" not in repr(RemoteArchive("http://a", "s3cr3t", "H49"))
