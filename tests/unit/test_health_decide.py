"""How the component statuses make the repository's state (``/healthz``, ``khoso health``)."""

from __future__ import annotations

from typing import Any

import pytest

from access_api.services.health import Overall, Status, decide


def components(**change: Any) -> dict[str, Any]:
    parts: dict[str, Any] = {
        "catalog": {"status": Status.UP, "revision": "0012"},
        "storage": [{"name": "replica1", "status": Status.UP, "detail": None},
                    {"name": "replica2", "status": Status.UP, "detail": None}],
        "clamd": {"status": Status.UP, "address": "unix:///x", "engine": "ClamAV 1.4.3",
                  "official_database": True, "signatures": "27500"},
        "preservation": {"status": Status.UP, "critical_aips": [], "critical_count": 0,
                         "bad_copies": 0, "copies_overdue": 3},
    }
    parts.update(change)
    return parts


def test_everything_up_with_an_official_database_is_up() -> None:
    assert decide(components()) == (Overall.UP, ())


def test_an_unreachable_catalog_is_down_whatever_else() -> None:
    status, issues = decide(components(catalog={"status": Status.DOWN, "detail": "refused"}))
    assert status is Overall.DOWN and [i.code for i in issues] == ["OPS001"]
    assert "refused" in issues[0].message("en")


@pytest.mark.parametrize(("change", "codes"), [
    ({"clamd": {"status": Status.UP, "address": "a", "engine": "ClamAV 1.4.3",
                "official_database": False}}, ["OPS004"]),
    ({"clamd": {"status": Status.DOWN, "address": "tcp://h:1", "detail": "refused"}},
     ["OPS003"]),
    ({"storage": [{"name": "s3", "status": Status.DOWN, "detail": "NoSuchBucket"}]},
     ["OPS002"]),
    ({"preservation": {"status": Status.DOWN, "critical_aips": ["urn:P1:uuid-1"],
                       "critical_count": 1, "bad_copies": 2, "copies_overdue": 0}}, ["OPS005"]),
    ({"preservation": {"status": Status.DOWN, "critical_aips": [], "critical_count": 0,
                       "bad_copies": 0, "copies_overdue": 0,
                       "catalog_incomplete": {"skipped_count": 1, "skipped": ["a/b"]}}},
     ["RBD038"]),
    ({"preservation": {"status": Status.DOWN, "detail": "no such table"}}, ["OPS001"]),
])
def test_what_degrades(change: dict[str, Any], codes: list[str]) -> None:
    status, issues = decide(components(**change))
    assert status is Overall.DEGRADED
    assert [i.code for i in issues] == codes
    assert all(i.message("vi") and i.message("en") for i in issues)


def test_overdue_copies_alone_do_not_degrade() -> None:
    """Overdue copies are the scheduler's work in progress, shown but not alarming."""
    assert decide(components())[0] is Overall.UP
