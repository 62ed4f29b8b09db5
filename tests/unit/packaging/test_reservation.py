"""Whether a reserved AIP version's holder can still finish it: a process on this host while
it runs (never by age), a process elsewhere until the lease has passed, a reused pid never."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys

from preservation.packaging.aip.reservation import LEASE, Holder, Verdict, judge, this_process

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def test_a_running_holder_on_this_host_is_live_whatever_its_age() -> None:
    me = this_process()
    assert Holder.parse(me.token) == me and me.running()
    assert judge(me.token, NOW - 100 * LEASE, NOW) is Verdict.LIVE


def test_a_holder_gone_from_this_host_is_dead_at_once() -> None:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    token = f"{socket.gethostname()}:{int(proc.stdout)}:{this_process().start}"
    assert judge(token, NOW, NOW) is Verdict.HOLDER_GONE


def test_a_reused_pid_is_not_the_holder() -> None:
    me = this_process()
    other = f"{me.host}:{me.pid}:{me.start}0"  # same pid, another start time
    assert judge(other, NOW, NOW) is Verdict.HOLDER_GONE


def test_a_holder_on_another_host_lasts_the_lease() -> None:
    token = "may-khac.example:4242:ab-99"
    assert judge(token, NOW - LEASE + dt.timedelta(seconds=1), NOW) is Verdict.LIVE
    assert judge(token, NOW - LEASE - dt.timedelta(seconds=1), NOW) is Verdict.LEASE_EXPIRED
    naive = (NOW - 2 * LEASE).replace(tzinfo=None)  # as SQLite gives it
    assert judge(token, naive, NOW) is Verdict.LEASE_EXPIRED


def test_a_row_with_no_holder_is_judged_by_age() -> None:
    assert judge(None, NOW, NOW) is Verdict.LIVE
    assert judge("nonsense", NOW - 2 * LEASE, NOW) is Verdict.LEASE_EXPIRED
    assert Holder.parse("nonsense") is None and Holder.parse("h:x:y") is None
