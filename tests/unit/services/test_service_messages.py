"""What a service says in an error reads in one language: no English inside the Vietnamese."""

import pytest

from access_api.services.base import ServiceContext
from access_api.services.versions import _reader
from preservation.errors import KhosoError
from preservation.settings import load_settings


def test_a_version_read_with_no_location_says_why_in_each_language(tmp_path):
    ctx = ServiceContext(load_settings({"KHOSO_DATA_DIR": str(tmp_path)}), _storages={})
    with pytest.raises(KhosoError) as err:
        _reader(ctx)("ARCH/P1/H1/v1/data/a.pdf")
    assert err.value.code == "VER009"
    vi, en = err.value.message("vi"), err.value.message("en")
    assert "(chi tiết kỹ thuật: không có vị trí lưu trữ)" in vi and "location" not in vi
    assert "(no storage location)" in en and "vị trí" not in en
