"""The JSON bodies the API reads (``access_api.api.parsing``): what is not one RFC 8259 JSON
text is a 400 with a code, never a 500 or a silent guess."""

from __future__ import annotations

import pytest

from access_api.api.parsing import MAX_DEPTH, parse_json_body
from preservation.errors import KhosoError


def refused(body: bytes) -> KhosoError:
    with pytest.raises(KhosoError) as caught:
        parse_json_body(body)
    assert not str(caught.value.issue.message("vi")).count("{")
    return caught.value


@pytest.mark.parametrize("body", [
    b"[" * 5000 + b"]" * 5000,  # Python's parser overflows its stack: was a 500
    b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1),
    b'{"n": ' + b"9" * 5000 + b"}",  # more digits than int() converts: was a 500
    b'{"n": NaN}', b'{"n": -Infinity}', b'{"n": 1e999}',
    b'{"a": 1', b"\xff{}", b'{"a": "\xc3"}',
], ids=["deep-5000", "deep-65", "digits", "nan", "infinity", "1e999", "cut", "latin1",
        "broken-utf8"])
def test_what_is_not_json_is_api201(body):
    exc = refused(body)
    assert exc.code == "API201"
    assert "JSON" in exc.issue.message("vi") and "JSON" in exc.issue.message("en")


def test_a_key_given_twice_is_api202_naming_it():
    exc = refused(b'{"documents": ["a"], "purpose": "01", "documents": ["b"]}')
    assert exc.code == "API202" and exc.issue.params["key"] == "documents"
    assert refused(b'{"x": [{"k": 1, "k": 2}]}').issue.params["key"] == "k"


def test_json_bodies_are_read_as_before():
    assert parse_json_body(b'\xef\xbb\xbf{"a": [1, 2.5, "\xe1\xbb\x87"]}') == {"a": [1, 2.5, "ệ"]}
    nested = b'{"a":' * (MAX_DEPTH - 1) + b"1" + b"}" * (MAX_DEPTH - 1)
    assert parse_json_body(nested)
