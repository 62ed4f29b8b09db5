"""The ``khoso`` command end to end on both databases (Click's runner, real catalog)."""

import json

import pytest
from click.testing import CliRunner

from access_api.cli import main


@pytest.fixture
def env(tmp_path, db_url):
    return {"KHOSO_DATA_DIR": str(tmp_path / "data"), "KHOSO_DATABASE_URL": db_url,
            "KHOSO_CLAMD_MANAGED": "false"}


def run(env, *args):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_version():
    from preservation import __version__

    assert run({}, "--version").output.strip() == f"khoso, version {__version__}"


def test_init_is_idempotent_and_prints_the_admin_once(env, tmp_path):
    first = run(env, "init")
    assert first.exit_code == 0, first.output
    assert "admin /" in first.output
    assert (tmp_path / "data" / "replicas" / "replica1").is_dir()
    assert (tmp_path / "data" / "replicas" / "replica2").is_dir()
    second = run(env, "init")
    assert second.exit_code == 0 and "admin /" not in second.output
    assert "0003" in run(env, "db", "upgrade").output


def test_agencies_and_fonds(env):
    assert run(env, "init").exit_code == 0
    assert run(env, "agency", "add", "000.00.00.H41", "UBND tỉnh Nghệ An").exit_code == 0
    out = run(env, "fonds", "add", "P623", "Phông UBND tỉnh Nghệ An", "--time", "1976-2020",
              "--agency", "000.00.00.H41", "--language", "01", "--language", "02",
              "--status", "đóng")
    assert out.exit_code == 0, out.output
    rows = json.loads(run(env, "fonds", "list", "--json").output)
    assert rows == [{"fond_code": "P623", "fond_name": "Phông UBND tỉnh Nghệ An",
                     "status": "đóng", "archives_time": "1976-2020", "languages": "01;02",
                     "archive": "KHOSO"}]
    assert "UBND tỉnh Nghệ An" in run(env, "agency", "list").output


def test_bad_input_lists_every_problem_and_exits_1(env):
    run(env, "init")
    out = run(env, "fonds", "add", "P 1", "", "--status", "x", "--language", "99")
    assert out.exit_code == 1
    for code in ("CAT002", "CAT003", "CAT004", "CAT005"):
        assert code in out.output
    assert "Mã phông không hợp lệ" in out.output


def test_duplicate_is_a_clear_error_in_the_chosen_language(env):
    run(env, "init")
    run(env, "agency", "add", "H49.64.33", "UBND huyện")
    out = run(env, "--lang", "en", "agency", "add", "H49.64.33", "again")
    assert out.exit_code == 2
    assert "Error [GEN003]: Agency already exists: H49.64.33." in out.output


def test_bad_setting_stops_the_command_with_its_name(env):
    out = run({**env, "KHOSO_PORT": "eighty"}, "fonds", "list")
    assert out.exit_code == 2 and "KHOSO_PORT" in out.output and "CFG002" in out.output


def test_sip_build_then_bag_validate(env, tmp_path):
    from tests.unit.sip.sheets import make_source, rows, write_csv

    src = make_source(tmp_path / "src")
    sheet = write_csv(tmp_path / "sheet.csv", rows("hoso"))
    out = tmp_path / "bag"
    built = run(env, "sip", "build", str(src), "--metadata", str(sheet), "--out", str(out),
                "--organ-id", "H49.64.33", "--agency-name", "UBND huyện", "--fond", "P623")
    assert built.exit_code == 0, built.output
    checked = run(env, "bag", "validate", str(out), "--json")
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.output)["ok"] is True
    again = run(env, "sip", "build", str(src), "--metadata", str(sheet), "--out", str(out),
                "--organ-id", "H49.64.33", "--agency-name", "UBND huyện", "--fond", "P623")
    assert again.exit_code == 1 and "SIP017" in again.output  # never overwrites a bag
