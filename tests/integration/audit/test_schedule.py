"""Which copies an audit takes: overdue ones, oldest first, in planned batches."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from preservation.catalog.models import Package, StoredCopy
from preservation.errors import KhosoError
from storage.audit import run_audit
from storage.checks import LAW_MAX_PERIOD_DAYS
from storage.schedule import due_copies, plan, scheduled_audit
from tests.support.audit import make_aip

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)  # copies checked now are later


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.fixture
def aged(catalog, fs_storages):
    """Packages whose copies were last checked at different times."""
    ids = {}
    for name, checked in [("old", days_ago(100)), ("recent", days_ago(10)), ("never", None),
                          ("retry", days_ago(2)), ("retry-soon", days_ago(1 / 24)), ("older", days_ago(400))]:
        ids[name] = make_aip(catalog, fs_storages, f"KHOSO.H49.2001.{name}", last_check_at=checked).package_id
    with catalog.session() as s:
        s.execute(sa.update(StoredCopy).where(StoredCopy.package_id.in_([ids["retry"], ids["retry-soon"]]))
                  .values(last_check_result="not_checked"))
    return ids


def test_due_copies_are_never_checked_then_failed_reads_then_oldest(catalog, aged):
    with catalog.session() as s:
        due = due_copies(s, now=NOW, period_days=90, batch_size=10, location="fs1")
        assert [c.package_id for c in due] == [aged["never"], aged["retry"], aged["older"], aged["old"]]
        assert {c.location for c in due} == {"fs1"}
        assert len(due_copies(s, now=NOW, batch_size=3)) == 3
        assert len(due_copies(s, now=NOW, period_days=5, batch_size=20)) == 10  # "recent" is due too
        with pytest.raises(KhosoError):
            due_copies(s, now=NOW, batch_size=0)


def test_deleted_packages_are_not_audited(catalog, aged):
    with catalog.session() as s:
        s.get(Package, aged["never"]).status = "deleted"
    with catalog.session() as s:
        assert aged["never"] not in {c.package_id for c in due_copies(s, now=NOW, batch_size=20)}


def test_due_run_reads_only_overdue_copies_once(catalog, fs_storages, aged):
    report = run_audit(catalog, fs_storages, due_only=True, now=NOW, batch_size=3, actor="tester")
    assert report.copies_checked == 8 and report.ok == 8
    with catalog.session() as s:
        untouched = {c.package_id for c in s.scalars(sa.select(StoredCopy).where(
            StoredCopy.last_check_at < NOW))}
    assert untouched == {aged["recent"], aged["retry-soon"]}
    assert run_audit(catalog, fs_storages, due_only=True, now=NOW).copies_checked == 0
    assert run_audit(catalog, fs_storages, due_only=True, location="fs2",
                     now=NOW + dt.timedelta(days=91)).copies_checked == 6


def test_plan_spreads_every_copy_over_the_period():
    assert plan(9000, 90, 24) == 5  # 2,160 runs in 90 days
    assert plan(1, 90, 24) == 1 and plan(0) == 0
    assert plan(1_000_000, LAW_MAX_PERIOD_DAYS, 1) == 913
    for bad in ({"period_days": 0}, {"period_days": LAW_MAX_PERIOD_DAYS + 1}, {"runs_per_day": 0}):
        with pytest.raises(KhosoError) as err:
            plan(10, **bad)
        assert err.value.code == "AUD010"


def test_scheduled_audit_takes_the_planned_batch_oldest_first(catalog, fs_storages, aged):
    # 12 copies, one day, three runs: four copies a run
    report = scheduled_audit(catalog, fs_storages, period_days=1, runs_per_day=3, now=NOW)
    assert report.copies_checked == 4
    with catalog.session() as s:
        fresh = set(s.scalars(sa.select(StoredCopy.package_id).where(StoredCopy.last_check_at > NOW)))
    assert fresh == {aged["never"], aged["retry"]}
    for _ in range(2):
        scheduled_audit(catalog, fs_storages, period_days=1, runs_per_day=3, now=NOW)
    with catalog.session() as s:  # three runs covered every copy
        assert s.scalar(sa.select(sa.func.count()).where(StoredCopy.last_check_at <= NOW)) == 0
