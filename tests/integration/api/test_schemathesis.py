"""Schemathesis against a live ``khoso serve``: generated requests for every operation of the
OpenAPI document, as an administrator (who may call everything) and as anonymous, find no 5xx
and no response that breaks its schema."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from preservation.accounts import create_user, issue_token
from tests.support.live import live_khoso
from tests.support.sips import make_sip

ST = Path(sys.executable).with_name("st")
# Examples per operation and the time budget of each run: enough to reach every operation and
# its boundaries; KHOSO_TEST_SCHEMATHESIS_EXAMPLES raises them for a longer hunt.
EXAMPLES = os.environ.get("KHOSO_TEST_SCHEMATHESIS_EXAMPLES", "15")


def run_schemathesis(url: str, token: str | None, tmp_path: Path) -> subprocess.CompletedProcess:
    args = [str(ST), "run", f"{url}/api/v1/openapi.json",
            "--checks", "not_a_server_error,response_schema_conformance",
            "--phases", "examples,coverage,fuzzing", "--max-examples", EXAMPLES,
            "--workers", "1", "--no-color", "--seed", "14",
            "--suppress-health-check", "all", "--max-failures", "20",
            # binary bodies (a bag, a tus chunk, a ZIP of scans, a signed decision PDF):
            # schemathesis has no serializer for them on the command line; test_submissions_schema,
            # test_digitisation_api and the disposal tests send them
            "--exclude-name", "POST /api/v1/submissions",
            "--exclude-name", "PATCH /api/v1/uploads/{upload_id}",
            "--exclude-name", "POST /api/v1/digitisations",
            "--exclude-name", "POST /api/v1/disposal/cases/{case_id}/decision"]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    return subprocess.run(args, capture_output=True, text=True, timeout=900, cwd=tmp_path)


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_server_error_and_no_response_off_its_schema(khoso, tmp_path):
    assert khoso.ingest(make_sip(tmp_path / "sip")).accepted  # something to find and read
    with khoso.catalog.session() as s:
        token = issue_token(s, create_user(s, "quan-tri-st", "Mật-khẩu-đủ-dài-2026", ["admin"]),
                            "schemathesis").token
    with live_khoso(khoso, tmp_path, worker=False) as live:
        for who in (token, None):
            done = run_schemathesis(live.url, who, tmp_path)
            report = done.stdout[-6000:] + done.stderr[-2000:]
            assert done.returncode == 0, report + live.log.read_text(errors="replace")[-3000:]
            selected = re.search(r"Selected: (\d+)/(\d+)", done.stdout)
            tested = re.search(r"Tested: (\d+)", done.stdout)
            assert selected and tested, report
            assert int(tested.group(1)) == int(selected.group(1)) > 40, report
