"""``Content-Disposition`` of a served file (RFC 6266): the name in ``filename*``, and an
ASCII ``filename`` that keeps Vietnamese letters (đ included) and cannot end its quotes."""

from __future__ import annotations

import pytest

from access_api.api.files import _disposition


@pytest.mark.parametrize(("name", "header"), [
    ("a.pdf", 'attachment; filename="a.pdf"'),
    ("Quyết định số 1.pdf", "attachment; filename=\"Quyet dinh so 1.pdf\"; "
     "filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%20s%E1%BB%91%201.pdf"),
    ("ĐẢNG ỦY.pdf", "attachment; filename=\"DANG UY.pdf\"; "
     "filename*=UTF-8''%C4%90%E1%BA%A2NG%20%E1%BB%A6Y.pdf"),
    ('bao "cao".pdf', "attachment; filename=\"bao _cao_.pdf\"; "
     "filename*=UTF-8''bao%20%22cao%22.pdf"),
])
def test_the_ascii_file_name_keeps_vietnamese_letters_and_its_quotes_closed(name, header):
    assert _disposition("attachment", name) == header
