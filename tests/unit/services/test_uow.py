"""The unit of work: operations run after the commit, in order, best effort; none on rollback."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from access_api.services.base import Identity, ServiceContext
from access_api.services.uow import MirrorAuditLog, UnitOfWork
from preservation.catalog import audit as audit_log
from preservation.catalog.models import AuditEntry
from preservation.settings import load_settings


@pytest.fixture
def ctx(tmp_path: Path) -> ServiceContext:
    data = tmp_path / "data"
    r1, r2 = data / "r1", data / "r2"
    r1.mkdir(parents=True)
    r2.mkdir(parents=True)
    settings = load_settings({
        "KHOSO_DATA_DIR": str(data), "KHOSO_DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite'}",
        "KHOSO_STORAGE_LOCATIONS": f"r1=file://{r1},r2=file://{r2}"})
    context = ServiceContext(settings)
    context.catalog.upgrade()
    return context


def entries(ctx: ServiceContext) -> list[str]:
    with ctx.catalog.session() as s:
        return list(s.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


@dataclass
class Seen:
    """An operation that notes what the catalog held when it ran."""

    name: str
    log: list[tuple[str, list[str]]]
    fail: bool = False

    def run(self, ctx: ServiceContext) -> None:
        self.log.append((self.name, entries(ctx)))
        if self.fail:
            raise OSError("location unreachable")


def test_operations_run_after_the_commit_in_registration_order(ctx: ServiceContext) -> None:
    log: list[tuple[str, list[str]]] = []
    with UnitOfWork(ctx) as uow:
        audit_log.record(uow.session, "tester", "test.change")
        uow.register(Seen("first", log))
        uow.register(Seen("second", log))
        assert log == []  # nothing before the commit
    # each saw the change committed (read through a session of its own)
    assert log == [("first", ["test.change"]), ("second", ["test.change"])]


def test_a_failing_operation_is_logged_and_the_others_and_the_change_stand(
        ctx: ServiceContext, caplog: pytest.LogCaptureFixture) -> None:
    log: list[tuple[str, list[str]]] = []
    broken = Seen("broken", log, fail=True)
    with caplog.at_level(logging.ERROR), UnitOfWork(ctx) as uow:
        audit_log.record(uow.session, "tester", "test.change")
        uow.register(broken)
        uow.register(Seen("after", log))
    assert [name for name, _ in log] == ["broken", "after"]
    assert uow.failed == [broken]
    assert entries(ctx) == ["test.change"]
    assert "post-commit Seen failed" in caplog.text


def test_nothing_runs_and_nothing_is_kept_on_rollback(ctx: ServiceContext) -> None:
    log: list[tuple[str, list[str]]] = []
    with pytest.raises(RuntimeError), UnitOfWork(ctx) as uow:
        audit_log.record(uow.session, "tester", "test.change")
        uow.register(Seen("never", log))
        raise RuntimeError("the service failed")
    assert log == [] and entries(ctx) == []


def test_commit_in_steps_runs_each_steps_operations_once(ctx: ServiceContext) -> None:
    log: list[tuple[str, list[str]]] = []
    with UnitOfWork(ctx) as uow:
        audit_log.record(uow.session, "tester", "step.one")
        uow.register(Seen("one", log))
        uow.commit()
        audit_log.record(uow.session, "tester", "step.two")
        uow.register(Seen("two", log))
    assert log == [("one", ["step.one"]), ("two", ["step.one", "step.two"])]


def test_an_equal_operation_is_registered_once(ctx: ServiceContext) -> None:
    with UnitOfWork(ctx) as uow:
        uow.register(MirrorAuditLog())
        uow.register(MirrorAuditLog())
        assert uow._operations == [MirrorAuditLog()]


def test_the_audit_log_is_mirrored_to_every_location_after_a_service_commits(
        ctx: ServiceContext) -> None:
    from access_api.services import admin

    admin.add_agency(ctx, Identity.system("tester"), "H49.64.33", "UBND huyện")
    for location in ("r1", "r2"):
        mirrored = [p for p in ctx.settings.location(location).path.rglob("*") if p.is_file()]
        assert mirrored and any("_audit" in str(p) for p in mirrored), mirrored
