from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from tests.support import pki


@pytest.fixture(scope="session")
def test_pki() -> SimpleNamespace:
    """Root CA, a signer, an expired signer, and an unrelated second root with its own signer."""
    root, root_key = pki.make_root("Khoso Test Root CA")
    other, other_key = pki.make_root("Untrusted Other Root")
    signer, signer_key = pki.make_signer("Nguyễn Văn An", root, root_key)
    expired, expired_key = pki.make_signer(
        "Trần Thị Bình", root, root_key, not_before=pki.NOW - dt.timedelta(days=800),
        not_after=pki.NOW - dt.timedelta(days=30))
    stranger, stranger_key = pki.make_signer("Lê Văn Cường", other, other_key)
    return SimpleNamespace(root=root, other=other, signer=signer, signer_key=signer_key,
                           expired=expired, expired_key=expired_key,
                           stranger=stranger, stranger_key=stranger_key, other_key=other_key)


@pytest.fixture(scope="session")
def signed_pdf(test_pki) -> bytes:
    return pki.sign_pdf(pki.minimal_pdf(), test_pki.signer, test_pki.signer_key, test_pki.root)
