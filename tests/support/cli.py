"""The ``khoso`` CLI through Click's runner, as the command-line tests call it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from access_api.cli import main


def instance_env(data: Path, db_url: str) -> dict[str, str]:
    """The environment of a khoso instance in ``data`` on the catalog ``db_url``, its clamd not
    managed (the CLI tests scan nothing)."""
    return {"KHOSO_DATA_DIR": str(data), "KHOSO_DATABASE_URL": db_url,
            "KHOSO_CLAMD_MANAGED": "false"}


def initialised(env: dict[str, str]) -> dict[str, str]:
    """``env`` after ``khoso init`` succeeded in it."""
    assert run(env, "init").exit_code == 0
    return env


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def as_json(result: Result) -> dict:
    return json.loads(result.stdout)


def codes(payload: dict) -> set[str]:
    return {issue["code"] for issue in payload["issues"]}


def cli_env(khoso) -> dict[str, str]:
    """The environment a ``khoso`` command needs to reach the test instance ``khoso``."""
    s = khoso.settings
    return {"KHOSO_DATA_DIR": str(s.data_dir), "KHOSO_DATABASE_URL": s.database_url,
            "KHOSO_CLAMD": s.clamd, "KHOSO_ARCHIVE_CODE": s.archive_code,
            "KHOSO_CLAMD_MANAGED": "false",
            "KHOSO_STORAGE_LOCATIONS": ",".join(f"{loc.name}={loc.url}"
                                                for loc in s.storage_locations)}


def content_file(khoso, replica: str):
    return next(p for p in khoso.replica(replica).rglob("tai-lieu-1.pdf"))
