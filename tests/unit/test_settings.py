from pathlib import Path

import pytest

from preservation.errors import ConfigError
from preservation.settings import documented, load_settings, parse_locations


def test_defaults_live_under_the_data_dir(tmp_path):
    s = load_settings({"KHOSO_DATA_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    assert [loc.name for loc in s.storage_locations] == ["replica1", "replica2"]
    assert s.storage_locations[0].path == tmp_path / "replicas" / "replica1"
    assert s.clamd == f"unix://{tmp_path / 'clamav' / 'clamd.sock'}"
    assert s.port == 8080 and s.archive_kind == "lich_su"


def test_settings_are_frozen(tmp_path):
    s = load_settings({"KHOSO_DATA_DIR": str(tmp_path)})
    with pytest.raises(AttributeError):
        s.port = 1  # type: ignore[misc]


def test_unknown_variable_is_named():
    with pytest.raises(ConfigError) as err:
        load_settings({"KHOSO_PROT": "8080"})
    assert err.value.code == "CFG001"
    assert "KHOSO_PROT" in err.value.message("vi") and "KHOSO_PORT" in err.value.message("en")


def test_harness_variables_are_not_settings():
    load_settings({"KHOSO_TEST_PG_URL": "x"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KHOSO_PORT", "http"),
        ("KHOSO_PORT", "-1"),
        ("KHOSO_CLAMD", "localhost:3310"),
        ("KHOSO_CLAMD_MANAGED", "maybe"),
        ("KHOSO_DATABASE_URL", "mysql://x"),
        ("KHOSO_ARCHIVE_KIND", "tam_thoi"),
        ("KHOSO_ARCHIVE_CODE", "bad code!"),
        ("KHOSO_STORAGE_LOCATIONS", ""),
        ("KHOSO_STORAGE_LOCATIONS", "a=file://relative"),
        ("KHOSO_STORAGE_LOCATIONS", "a=file:///x,a=file:///y"),
        ("KHOSO_STORAGE_LOCATIONS", "Bad=file:///x"),
        ("KHOSO_STORAGE_LOCATIONS", "a=ftp://host/x"),
    ],
)
def test_bad_values_stop_start_up_naming_the_variable(name, value):
    with pytest.raises(ConfigError) as err:
        load_settings({name: value})
    assert err.value.code == "CFG002"
    assert name in err.value.message("en") and name in err.value.message("vi")


def test_s3_location_options():
    (loc,) = parse_locations("s3a=s3://bucket-a?endpoint=http://127.0.0.1:9000&lock_days=3650")
    assert loc.scheme == "s3" and loc.bucket == "bucket-a"
    assert loc.options == {"endpoint": "http://127.0.0.1:9000", "lock_days": "3650"}


def test_readme_documents_every_setting():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for name, _default, _doc in documented():
        assert f"`{name}`" in readme, f"README settings table misses {name}"


def test_secrets_are_masked_in_urls_and_parameters():
    from preservation.settings import mask_secrets

    assert mask_secrets("postgresql+psycopg://khoso:s3cret@db:5432/khoso") == \
        "postgresql+psycopg://khoso:***@db:5432/khoso"
    assert mask_secrets("redis://:pw@cache:6379/0") == "redis://:***@cache:6379/0"
    assert mask_secrets("a=s3://b?endpoint=http://m:9000&secret_key=xyz,c=file:///d") == \
        "a=s3://b?endpoint=http://m:9000&secret_key=***,c=file:///d"
    assert mask_secrets("sqlite:////tmp/catalog.sqlite") == "sqlite:////tmp/catalog.sqlite"


def test_in_effect_names_the_source_and_keeps_bad_values_with_their_reason(tmp_path):
    from preservation.settings import Source, in_effect

    rows = {r.name: r for r in in_effect({"KHOSO_DATA_DIR": str(tmp_path), "KHOSO_PORT": "x",
                                          "KHOSO_HOST": "0.0.0.0"})}
    assert rows["KHOSO_DATA_DIR"].source is Source.ENVIRONMENT
    assert rows["KHOSO_HOST"].value == "0.0.0.0" and rows["KHOSO_HOST"].source is Source.ENVIRONMENT
    assert rows["KHOSO_LOG_LEVEL"].source is Source.DEFAULT
    assert rows["KHOSO_DATABASE_URL"].value == f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    assert rows["KHOSO_PORT"].error and rows["KHOSO_HOST"].error is None
    assert set(rows) == {name for name, _d, _doc in documented()}


def test_descriptions_and_reasons_are_said_in_both_languages(tmp_path):
    from preservation.issues import Text
    from preservation.settings import in_effect

    vietnamese = set("ăâđêôơưáàảãạéèẻẽẹíìỉĩịóòỏõọúùủũụýỳỷỹỵ")
    for name, _default, doc in documented():
        assert isinstance(doc, Text) and doc.vi != doc.en, name
        assert vietnamese & set(doc.vi.lower()), f"{name}: no Vietnamese description"
    rows = {r.name: r for r in in_effect({
        "KHOSO_DATA_DIR": str(tmp_path), "KHOSO_PORT": "x",
        "KHOSO_STORAGE_LOCATIONS": "Bad=s3://b?secret_key=zz"})}
    assert rows["KHOSO_PORT"].error == Text("cần một số nguyên dương", "must be a positive integer")
    assert rows["KHOSO_PORT"].doc == Text("Cổng mà khoso serve lắng nghe.", "Port khoso serve binds.")
    reason = rows["KHOSO_STORAGE_LOCATIONS"].error
    assert reason is not None and "zz" not in reason.vi + reason.en
    assert reason.vi.startswith("«Bad=s3://b?secret_key=***»: cần dạng tên=url")


def test_a_refused_value_is_shown_with_its_secrets_masked():
    """CFG002 at start-up quotes the refused value: never a password in it."""
    import pytest

    from preservation.errors import KhosoError

    with pytest.raises(KhosoError) as refused:
        load_settings({"KHOSO_DATABASE_URL": "mysql://khoso:s3cret@db/khoso"})
    assert refused.value.code == "CFG002"
    assert "s3cret" not in refused.value.message("vi") + refused.value.message("en")
