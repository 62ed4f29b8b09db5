"""Key rules: one function, every hostile shape refused, nothing silently rewritten."""

from __future__ import annotations

import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import InvalidKey, StorageError, validate_key
from storage.keys import MAX_KEY_BYTES, normalize_sha256, validate_prefix


@pytest.mark.parametrize("key", [
    "a", "a/b/c.txt", "fonds/hồ sơ/tài liệu.pdf", "a..b", "...", ".hidden", "x" * MAX_KEY_BYTES,
    "ă" * (MAX_KEY_BYTES // 2), "data/rep1/metadata/PREMIS_rep1.xml",
])
def test_valid_keys_pass_unchanged(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(("key", "reason"), [
    ("", "empty"), ("../x", "dot"), ("a/..", "dot"), ("a/./b", "dot"), (".", "dot"), ("/abs", "absolute"),
    ("a//b", "empty_segment"), ("a/", "empty_segment"), ("a\x00b", "control"), ("a\x7fb", "control"),
    ("a\u0085b", "control"), ("a\tb", "control"), ("x" * (MAX_KEY_BYTES + 1), "long"),
    ("ă" * (MAX_KEY_BYTES // 2 + 1), "long"), ("e\u0301", "nfc"), ("a\\b", "backslash"),
    (".khoso-tmp-x", "reserved"), ("a/.khoso-x/b", "reserved"), ("\ud800", "control"), (b"a", "type"),
])
def test_invalid_keys_refused_with_reason(key: str, reason: str) -> None:
    with pytest.raises(InvalidKey) as info:
        validate_key(key)
    err = info.value
    assert err.code == "STO001" and not err.transient
    assert err.issue.params["reason"] == reason
    assert err.message("vi").startswith("Khóa đối tượng lưu trữ không hợp lệ")
    assert "relative POSIX path" in err.message("en")


def test_long_key_is_shortened_in_the_message() -> None:
    with pytest.raises(InvalidKey) as info:
        validate_key("y" * 5000)
    assert len(info.value.message("en")) < 400


@given(st.text(max_size=60))
def test_any_accepted_key_stays_inside_the_root(key: str) -> None:
    try:
        validate_key(key)
    except InvalidKey:
        return
    assert posixpath.normpath(key) == key and not key.startswith("/")
    assert posixpath.join("/root", key).startswith("/root/")
    assert ".." not in key.split("/")


@pytest.mark.parametrize("prefix", ["", "a", "a/", "a/b", "hồ sơ/"])
def test_prefixes(prefix: str) -> None:
    assert validate_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["/", "../", "a//", "/a"])
def test_bad_prefixes(prefix: str) -> None:
    with pytest.raises(InvalidKey):
        validate_prefix(prefix)


def test_normalize_sha256() -> None:
    assert normalize_sha256(" " + "AB" * 32 + "\n") == "ab" * 32
    for bad in ["", "ab" * 31, "zz" * 32, "sha256:" + "ab" * 32, None]:
        with pytest.raises(StorageError) as info:
            normalize_sha256(bad)  # type: ignore[arg-type]
        assert info.value.code == "STO012"
