"""docker/compose.yaml and the Dockerfile cannot be run here (no container engine on these
machines), so every khoso command they run is checked against the CLI, and every KHOSO_ variable
against the settings, as the containers would load them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from access_api.cli import main
from preservation.settings import load_settings, parse_locations

DOCKER = Path(__file__).parents[2] / "docker"
COMPOSE = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict] = COMPOSE["services"]
KHOSO = {name: svc for name, svc in SERVICES.items() if svc.get("image") == "khoso:latest"}


def interpolate(value: str) -> str:
    """Compose's ${VAR:-default} with nothing set in the environment, and $$ escapes."""
    value = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))
    assert "${" not in value, f"a variable without a default: {value}"
    return value.replace("$$", "$")


def khoso_commands() -> list[tuple[str, list[str]]]:
    found = []
    for name, svc in KHOSO.items():
        found.append((name, svc["command"]))
        test = svc.get("healthcheck", {}).get("test") or []
        if test[1:2] == ["khoso"]:
            found.append((f"{name} healthcheck", test[1:]))
    dockerfile = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    found.append(("Dockerfile CMD", json.loads(re.search(r"^CMD (.+)$", dockerfile, re.M)[1])))
    return found


def test_the_stack_has_web_workers_beat_init_and_the_services_it_needs() -> None:
    assert {"postgres", "redis", "minio-a", "minio-b", "buckets", "clamd"} <= SERVICES.keys()
    assert {"init", "web", "worker", "beat"} <= KHOSO.keys()
    assert SERVICES["worker"]["deploy"]["replicas"] >= 2
    assert KHOSO["beat"]["command"][:2] == ["khoso", "beat"]  # one scheduler, not per worker
    assert "--no-worker" in KHOSO["web"]["command"]


@pytest.mark.parametrize(("where", "command"), khoso_commands(), ids=lambda v: str(v)[:40])
def test_every_khoso_command_is_one_the_cli_accepts(where: str, command: list[str]) -> None:
    assert command[0] == "khoso", where
    # --help is eager: the command and each option before it must exist, or click exits 2.
    result = CliRunner().invoke(main, [*command[1:], "--help"])
    assert result.exit_code == 0, (where, result.output)


def test_every_khoso_container_loads_its_settings() -> None:
    for name, svc in KHOSO.items():
        env = {k: interpolate(v) for k, v in svc["environment"].items()}
        settings = load_settings({k: v for k, v in env.items() if k.startswith("KHOSO_")})
        assert settings.database_url.startswith("postgresql+psycopg://"), name
        assert settings.broker_url.startswith("redis://"), name
        assert not settings.clamd_managed and settings.clamd.startswith("tcp://clamd:"), name
        locations = parse_locations(env["KHOSO_STORAGE_LOCATIONS"])
        assert [loc.scheme for loc in locations] == ["s3", "s3"], name
        assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= env.keys(), name


def test_the_buckets_the_locations_name_are_created() -> None:
    env = {k: interpolate(v) for k, v in KHOSO["web"]["environment"].items()}
    script = SERVICES["buckets"]["command"][0]
    for loc in parse_locations(env["KHOSO_STORAGE_LOCATIONS"]):
        bucket = loc.url.split("://", 1)[1].split("?", 1)[0]
        host = loc.options["endpoint"].split("//", 1)[1].split(":", 1)[0]
        alias = re.search(rf"mc alias set (\w+) http://{re.escape(host)}:", script)
        assert alias and f"{alias[1]}/{bucket}" in script, (loc.name, script)


def test_volumes_health_checks_and_start_order() -> None:
    declared = set(COMPOSE["volumes"])
    for name, svc in SERVICES.items():
        for volume in svc.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source in declared, (name, volume)
        for dependency in svc.get("depends_on", {}):
            assert dependency in SERVICES, (name, dependency)
        if svc.get("restart") != "no":
            assert "healthcheck" in svc and not svc["healthcheck"].get("disable"), name
    # the signing key init makes is the one every worker signs with
    keys = KHOSO["init"]["environment"]["KHOSO_KEYS_DIR"]
    for name, svc in KHOSO.items():
        assert any(v.split(":")[:2] == ["keys", keys] for v in svc["volumes"]), name
    for name in ("web", "worker", "beat"):
        assert KHOSO[name]["depends_on"]["init"]["condition"] == \
            "service_completed_successfully", name
    assert KHOSO["init"]["command"] == ["khoso", "init"]


def test_the_image_runs_as_a_user_that_is_not_root() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0"), users
