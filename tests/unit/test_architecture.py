"""The import direction access_api → ingest, storage → preservation, checked by import-linter,
and the CLI as a thin edge over the services layer."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
CLI = ROOT / "access_api" / "cli"


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--config", "setup.cfg", "--no-cache"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Contracts: 4 kept, 0 broken" in out.stdout


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, at its top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


# Operations live in access_api.services: no CLI module reaches storage, the catalog's tables or
# ingest's orchestration itself (the ingest adapters it runs, local clamd, SIP tools stay allowed).
NEVER_FROM_THE_CLI = ("storage", "preservation.catalog.models", "preservation.catalog.registry",
                      "preservation.accounts", "ingest.jobs", "ingest.pipeline",
                      "preservation.packaging.aip.new_version", "ingest.register", "ingest.steps")
# These groups are parse–call–print throughout: click, the standard library, base, services and
# the message catalog (access_api.i18n).
SERVICES_ONLY = ("admin.py", "aip.py", "integrity.py")


@pytest.mark.parametrize("module", sorted(p.name for p in CLI.glob("*.py")))
def test_cli_modules_reach_the_core_only_through_services(module: str) -> None:
    names = imported(CLI / module)
    assert not [n for n in names if within(n, *NEVER_FROM_THE_CLI)], module
    if module in SERVICES_ONLY:
        own = {n for n in names if within(n, "access_api", "ingest", "storage", "preservation")}
        assert all(within(n, "access_api.cli.base", "access_api.services", "access_api.i18n")
                   for n in own), own


def test_the_rule_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from storage.audit import run_audit\n", encoding="utf-8")
    assert within("storage.audit.run_audit", *NEVER_FROM_THE_CLI)
    assert "storage.audit" in imported(sample)
