"""Fixtures for the real services started by ``tests/harness/services.sh`` (``make test``).

Each service is announced by a ``KHOSO_TEST_*`` variable. Run outside the harness, tests that
need a missing service are skipped; under the harness (``KHOSO_TEST_REQUIRE_SERVICES=1``) a
missing service is a failure, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.db import postgres_schema


def service(variable: str) -> str:
    value = os.environ.get(variable)
    if value:
        return value
    if os.environ.get("KHOSO_TEST_REQUIRE_SERVICES"):
        pytest.fail(f"{variable} is not set although the test harness should provide it")
    pytest.skip(f"{variable} not set: run through `make test` for real services")


@pytest.fixture(scope="session")
def clamd_address() -> str:
    """``unix:///path/clamd.sock`` of a clamd whose database knows only EICAR."""
    return service("KHOSO_TEST_CLAMD")


@pytest.fixture(scope="session")
def clamd_tcp_address() -> str:
    return service("KHOSO_TEST_CLAMD_TCP")


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    """HTTP endpoint of a moto_server running as a separate process."""
    return service("KHOSO_TEST_S3_ENDPOINT")


@pytest.fixture(scope="session")
def redis_url() -> str:
    return service("KHOSO_TEST_REDIS_URL")


@pytest.fixture(scope="session")
def amqp_url() -> str:
    """RabbitMQ (``KHOSO_TEST_AMQP_URL``, else guest on 127.0.0.1:5672 when it answers there).

    The harness does not start one (no Debian package in ``make install``): without it the
    RabbitMQ cases are skipped, even under the harness."""
    import socket

    value = os.environ.get("KHOSO_TEST_AMQP_URL")
    if value:
        return value
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
    except OSError:
        pytest.skip("RabbitMQ not reachable on 127.0.0.1:5672 (set KHOSO_TEST_AMQP_URL)")
    return "amqp://guest:guest@127.0.0.1:5672//"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return service("KHOSO_TEST_PG_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty catalog database URL, once on SQLite and once on PostgreSQL.

    On PostgreSQL each test gets its own schema, dropped afterwards.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.sqlite'}"
        return
    with postgres_schema(request.getfixturevalue("postgres_url")) as url:
        yield url
