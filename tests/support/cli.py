"""The ``khoso`` CLI through Click's runner, as the command-line tests call it."""

from __future__ import annotations

import json

from click.testing import CliRunner, Result

from access_api.cli import main


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def as_json(result: Result) -> dict:
    return json.loads(result.stdout)


def codes(payload: dict) -> set[str]:
    return {issue["code"] for issue in payload["issues"]}
