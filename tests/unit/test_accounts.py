"""The account rules that need no catalog: password policy, hashes old and new, token
lifetimes and how failed logins are keyed."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re

import pytest

from preservation import accounts as core


@pytest.mark.parametrize(("password", "username", "codes"), [
    ("Mật khẩu dài 2026", "doc-gia", []),
    ("correct horse battery", "doc-gia", []),  # letters and spaces: two kinds
    ("ABCDEFabcdef", "x", []),
    ("abcdefghijkl", "x", ["ACC004"]),
    ("ĐƯỜNGPHỐHÀNỘI", "x", ["ACC004"]),  # Vietnamese capitals are one kind too
    ("short 1", "x", ["ACC002"]),
    ("a" * 1025 + "1", "x", ["ACC003"]),
    ("Tôi là Doc-Gia 2026", "doc-gia", ["ACC005"]),
    ("ab", "ab", ["ACC002", "ACC004"]),  # a 2-letter username is not looked for
    ("", "x", ["ACC002"]),
])
def test_the_password_policy(password, username, codes):
    assert [i.code for i in core.password_issues(password, username)] == codes


def test_a_made_password_passes_the_policy():
    assert all(not core.password_issues(core.make_password(), "admin") for _ in range(50))


def test_argon2id_hashes_verify_and_scrypt_ones_still_do():
    stored = core.hash_password("Mật khẩu dài 2026")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert core.check_password("Mật khẩu dài 2026", stored)
    assert not core.check_password("Mật khẩu dài 2027", stored)
    assert not core.needs_rehash(stored)
    salt = b"0123456789abcdef"
    key = hashlib.scrypt(b"old secret 1", salt=salt, n=2**14, r=8, p=1, dklen=32)
    old = f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"
    assert core.check_password("old secret 1", old) and core.needs_rehash(old)
    assert not core.check_password("old secret 2", old)
    for broken in ("scrypt$x", "scrypt$1$8$1$!!$!!", "$argon2id$garbage", "", "plain"):
        assert not core.check_password("old secret 1", broken)
        assert core.needs_rehash(broken)


@pytest.mark.parametrize(("text", "expected"), [
    ("90d", dt.timedelta(days=90)), ("12h", dt.timedelta(hours=12)),
    ("365d", dt.timedelta(days=365)), ("8760h", dt.timedelta(hours=8760)),
    ("366d", "ACC012"), ("8761h", "ACC012"), ("never", "ACC012"), ("NEVER", "ACC012"),
    ("0d", "ACC011"), ("090d", "ACC011"), ("90D", "ACC011"), (" 90d", "ACC011"),
    ("1.5d", "ACC011"), ("", "ACC011"), ("9" * 50 + "d", "ACC011"),
])
def test_token_lifetimes(text, expected):
    parsed = core.parse_lifetime(text)
    assert parsed == expected if isinstance(expected, dt.timedelta) else parsed.code == expected


def test_the_documented_lifetime_pattern_is_what_the_parser_accepts():
    pattern = re.compile(core.LIFETIME_PATTERN)
    for number in range(0, 9100):
        for unit in "hd":
            text = f"{number}{unit}"
            accepted = isinstance(core.parse_lifetime(text), dt.timedelta)
            assert accepted == bool(pattern.fullmatch(text)), text


def test_failed_logins_are_counted_by_a_storable_key():
    assert core.failure_key("Doc-Gia") == core.failure_key("doc-gia") == "doc-gia"
    assert core.failure_key("a\x00b") == "ab"
    assert core.failure_key("\udfff").encode("utf-8")  # storable: no lone surrogate left
    assert len(core.failure_key("x" * 500)) == 80


def test_the_csrf_token_is_derived_from_the_session_secret():
    assert core.csrf_token("a") == core.csrf_token("a") != core.csrf_token("b")
    token = core.csrf_token("bí-mật-phiên")
    assert len(token) == 43 and re.fullmatch(r"[A-Za-z0-9_-]+", token)
