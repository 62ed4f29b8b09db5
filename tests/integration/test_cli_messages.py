"""What an operator reads (issue #13, §4): one language, the option they typed, the agency
identifier form, and the way to a bag (Click's runner, real catalog on both databases)."""

import pytest

from preservation.catalog import registry
from preservation.errors import ValidationFailed
from tests.support.cli import initialised, instance_env, run


@pytest.fixture
def env(tmp_path, db_url):
    return initialised(instance_env(tmp_path / "data", db_url))


@pytest.mark.parametrize(("args", "code", "shown", "internal"), [
    (("--total-doc", "abc"), "CAT007", "--total-doc", "total_doc"),
    (("--total-doc", "-3"), "CAT007", "--total-doc", "total_doc"),
    (("--language", "99"), "CAT005", "--language", "languages"),
    (("--status", "x"), "CAT004", "--status", "] status:"),
    (("--time", "1990-1980"), "CAT006", "--time", "archives_time"),
])
def test_a_bad_value_names_the_option_the_user_typed(env, args, code, shown, internal):
    out = run(env, "fonds", "add", "P623", "Phông UBND", *args)
    assert out.exit_code == 1, out.output
    assert f"  - [{code}] {shown}: " in out.output
    assert internal not in out.output and "invalid literal" not in out.output


def test_a_missing_argument_value_names_the_argument(env):
    out = run(env, "fonds", "add", "P623", " ")
    assert out.exit_code == 1
    assert "  - [CAT002] FOND_NAME: Trường FOND_NAME bắt buộc" in out.output
    assert "fond_name" not in out.output


def test_a_rejection_is_in_one_language(env):
    vi = run(env, "fonds", "add", "P 1", "Phông", "--total-doc", "abc").output
    assert vi.startswith("Lỗi [GEN001]: Dữ liệu không hợp lệ: 2 lỗi")
    assert "Error" not in vi and "Invalid" not in vi and " / " not in vi
    en = run(env, "--lang", "en", "fonds", "add", "P 1", "Phông", "--total-doc", "abc").output
    assert en.startswith("Error [GEN001]: Invalid input: 2 error(s)")
    assert "  - [CAT007] --total-doc: Total number of documents must be" in en
    assert "Lỗi" not in en and "không hợp lệ" not in en


def test_a_duplicate_agency_is_named_in_vietnamese(env):
    assert run(env, "agency", "add", "H49.64.33", "UBND huyện").exit_code == 0
    out = run(env, "agency", "add", "H49.64.33", "again")
    assert out.exit_code == 2
    assert out.output.strip() == "Lỗi [GEN003]: Đã tồn tại cơ quan: H49.64.33."


@pytest.mark.parametrize("organ_id", ["ABC", "UBND-NA", "000.00.00.g09", "H49.64"])
def test_an_agency_identifier_outside_qd_20_2020_is_refused_with_the_form(env, organ_id):
    out = run(env, "agency", "add", organ_id, "UBND")
    assert out.exit_code == 1
    assert (f"  - [CAT001] ORGAN_ID: Mã định danh cơ quan «{organ_id}» không đúng dạng theo "
            "Quyết định 20/2020/QĐ-TTg. Dùng dạng NNN.NN.NN.XNN") in out.output
    assert "ví dụ 000.00.00.G09" in out.output
    en = run(env, "--lang", "en", "agency", "add", organ_id, "UBND").output
    assert "Decision 20/2020/QĐ-TTg" in en and "e.g. 000.00.00.G09" in en
    assert run(env, "agency", "list").output.strip() == "(không có dữ liệu)"


@pytest.mark.parametrize("organ_id", ["000.00.00.G09", "H49.64.33", "0101234567"])
def test_agency_identifiers_of_the_qd_20_2020_forms_are_added(env, organ_id):
    assert run(env, "agency", "add", organ_id, "Cơ quan").exit_code == 0
    assert organ_id in run(env, "agency", "list").output


def test_the_core_refuses_a_bad_agency_identifier_whoever_calls_it(env):
    from preservation.catalog.db import Catalog

    catalog = Catalog(env["KHOSO_DATABASE_URL"])
    with pytest.raises(ValidationFailed) as err, catalog.session() as s:
        registry.add_agency(s, "Sở Nội vụ", "Sở Nội vụ")
    assert err.value.report.codes() == {"CAT001"}
    catalog.dispose()


def test_ingest_of_a_folder_that_is_no_package_points_to_sip_build(env, tmp_path, clamd_address):
    folder = tmp_path / "tai-lieu"
    folder.mkdir()
    (folder / "quyet-dinh.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    out = run({**env, "KHOSO_CLAMD": clamd_address}, "ingest", "--wait", str(folder))
    assert out.exit_code == 1, out.output
    assert "[BAG001]" in out.output and "[BAG114]" in out.output
    assert "«khoso sip build»" in out.output
    en = run({**env, "KHOSO_CLAMD": clamd_address}, "--lang", "en", "ingest", "--wait", str(folder))
    assert "'khoso sip build'" in en.output
