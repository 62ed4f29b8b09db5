"""Every row of ``matrix_ops.ROWS`` as every role (the shared role-matrix test calls them too)."""

from __future__ import annotations

from access_api.app import create_app
from access_api.services.base import UserRole
from tests.integration.api.matrix_ops import ROWS
from tests.support.officer import bearer


def test_each_role_gets_the_status_the_matrix_says(khoso, monkeypatch):
    monkeypatch.setattr("celery.Celery.send_task",
                        lambda self, *a, **kw: type("R", (), {"id": "t"})())
    client = create_app(khoso.settings, khoso.catalog).test_client()
    headers = {"anonymous": {}}
    for role in UserRole:
        headers[role.name.lower()] = bearer(khoso.catalog, f"vai-{role.value}", role)
    assert set(headers) == {"anonymous", "admin", "archivist", "agency_submitter",
                            "preservation_officer", "reader"}
    wrong = []
    for method, path, expected in ROWS:
        assert set(expected) == set(headers), path
        for role, status in expected.items():
            got = client.open(path, method=method, headers=headers[role]).status_code
            if got != status:
                wrong.append((method, path, role, status, got))
    assert wrong == []
