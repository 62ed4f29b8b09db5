"""The ``khoso`` command end to end on both databases (Click's runner, real catalog)."""

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from access_api.cli import main
from preservation.catalog.db import head_revision
from tests.support.cli import instance_env


@pytest.fixture
def env(tmp_path, db_url):
    return instance_env(tmp_path / "data", db_url)


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
    assert head_revision() in run(env, "db", "upgrade").output


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
    from tests.support.sheets import make_source, rows, write_csv

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


SUITE = Path(__file__).resolve().parents[1] / "data" / "bagit-conformance"


def _holey_bag(tmp_path):
    """The suite's holey bag (every file present) with two of the files it lists removed."""
    bag = tmp_path / "holey"
    shutil.copytree(SUITE / "v0.97" / "valid" / "holey-bag", bag)
    (bag / "data" / "test 1.txt").unlink()
    (bag / "data" / "dir2" / "dir3" / "test5.txt").unlink()
    return bag


def test_bag_validate_profile_none_reports_a_holey_bag_as_valid_but_incomplete(env, tmp_path):
    bag = _holey_bag(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = run(env, "bag", "validate", str(bag), "--profile", "none")
    assert result.exit_code == 3, result.output
    assert "hợp lệ nhưng chưa đầy đủ" in result.output and "không hợp lệ" not in result.output
    assert ("data/test 1.txt <- http://localhost:8989/bags/v0_96/holey-bag/data/test%201.txt"
            in result.output)
    assert "data/dir2/dir3/test5.txt <- " in result.output and "[BAG111]" in result.output
    out = json.loads(run(env, "bag", "validate", str(bag), "--profile", "none", "--json").output)
    assert out["ok"] is True and out["complete"] is False and len(out["fetch"]) == 5
    absent = sorted(e["path"] for e in out["fetch"] if not e["present"])
    assert absent == ["data/dir2/dir3/test5.txt", "data/test 1.txt"]
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # never fetched
    strict = run(env, "bag", "validate", str(bag), "--json")  # the SIP profile refuses fetch.txt
    assert strict.exit_code == 1 and "PRF013" in strict.output


@pytest.mark.parametrize("name", ["v0.93/valid/basic-bag", "v0.97/valid/UTF-16-encoded-tag-files",
                                  "v0.97/warning/made-with-md5sum-tools"])
def test_bag_validate_profile_none_accepts_what_the_rfc_accepts(env, name):
    result = run(env, "bag", "validate", str(SUITE / name), "--profile", "none")
    assert result.exit_code == 0, result.output
    assert ": hợp lệ (" in result.output
    strict = run(env, "bag", "validate", str(SUITE / name))
    assert strict.exit_code == 1  # not a SIP: profile errors, but never a crash


def test_bag_level_messages_name_the_bag(env, tmp_path):
    bag = tmp_path / "bag"
    shutil.copytree(SUITE / "v1.0" / "valid" / "basicBag", bag)
    (bag / "manifest-sha512.txt").unlink()
    result = run(env, "bag", "validate", str(bag), "--profile", "none")
    assert result.exit_code == 1
    assert f"[BAG009] lỗi: {bag}: " in result.output  # not an empty path


def test_fonds_of_an_unknown_agency_is_rejected_and_says_to_add_the_agency(env):
    run(env, "init")
    out = run(env, "fonds", "add", "P9", "Phông thử", "--agency", "000.00.00.H99")
    assert out.exit_code == 1, out.output
    assert "[CAT009]" in out.output and "khoso agency add 000.00.00.H99" in out.output
    assert json.loads(run(env, "fonds", "list", "--json").output) == []
    assert run(env, "agency", "add", "000.00.00.H99", "UBND thử").exit_code == 0
    assert run(env, "fonds", "add", "P9", "Phông thử", "--agency", "000.00.00.H99").exit_code == 0


def test_bag_validate_of_an_archive_without_bagit_names_the_archive(env, tmp_path):
    # not the temporary folder it was unpacked into ("bag")
    archive = tmp_path / "giao-nop.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("quyet-dinh.pdf", b"%PDF-1.4\n%%EOF\n")
    result = run(env, "bag", "validate", str(archive))
    assert result.exit_code == 1 and "[BAG001]" in result.output
    line = next(x for x in result.output.splitlines() if x.startswith("[BAG001]"))
    assert "gốc giao-nop.zip:" in line, line


@pytest.mark.parametrize("serialised", [False, True], ids=["folder", "zip"])
def test_bag_validate_warns_of_hidden_characters_as_an_ingest_would(env, tmp_path, serialised):
    """A name hiding a right-to-left override (it shows as 'Hồ sơexe.pdf') is PKG203 at
    ingest; bag validate of the same folder said nothing (only its ZIP went through unpack)."""
    bag = tmp_path / "bag"
    shutil.copytree(SUITE / "v1.0" / "valid" / "basicBag", bag)
    name = "Hồ sơ\u202efdp.exe"
    (bag / "data" / name).write_bytes(b"x")
    for manifest in [*bag.glob("manifest-*.txt"), *bag.glob("tagmanifest-*.txt")]:
        manifest.unlink()
    (bag / "manifest-sha256.txt").write_text(
        "\n".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  data/{p.name}"
                  for p in sorted((bag / "data").iterdir())) + "\n", encoding="utf-8")
    target = bag
    if serialised:
        target = tmp_path / "bag.zip"
        with zipfile.ZipFile(target, "w") as zf:
            for p in sorted(bag.rglob("*")):
                zf.write(p, "bag/" + p.relative_to(bag).as_posix())
    result = run(env, "bag", "validate", str(target), "--profile", "none")
    assert "[PKG203]" in result.output, result.output
    assert "\\u202e" in result.output and "\u202e" not in result.output  # shown escaped
    assert result.exit_code == 0, result.output  # a warning: the bag stays valid
