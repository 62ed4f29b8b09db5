#!/usr/bin/env bash
# `make test`: start the real services, run pytest against them, stop what was started.
set -euo pipefail
cd "$(dirname "$0")/../.."
state=.test-services
tests/harness/services.sh start "$state"
trap 'tests/harness/services.sh stop "$state"' EXIT
set -a; . "$state/env"; set +a
export KHOSO_TEST_REQUIRE_SERVICES=1 OMP_THREAD_LIMIT=1
.venv/bin/lint-imports --config setup.cfg
.venv/bin/ruff check .
.venv/bin/mypy preservation storage ingest access_api
.venv/bin/python -m pytest "$@"
