"""One log line per ingest step as it ends, with the job's id, the step and its outcome as
fields (``KHOSO_LOG_FORMAT=json`` lines carry them)."""

from __future__ import annotations

import json
import logging

from ingest.pipeline import STEPS
from preservation.logs import JsonFormatter
from tests.support.sips import make_sip
from tests.support.viruses import EICAR


def step_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "ingest.pipeline" and hasattr(r, "step")]


def test_an_accepted_ingest_logs_one_line_per_step_with_the_job_fields(khoso, caplog):
    with caplog.at_level(logging.INFO, logger="ingest.pipeline"):
        outcome = khoso.ingest(make_sip(khoso.tmp / "sip"))
    assert outcome.accepted, outcome.report.to_dict()
    records = step_records(caplog)
    assert [r.step for r in records] == [s.name for s in STEPS]
    assert all(r.levelno == logging.INFO and r.job_id == outcome.job_id for r in records)
    assert all(r.outcome in {"success", "warning"} for r in records)
    lines = [json.loads(JsonFormatter().format(r)) for r in records]
    assert [(d["job_id"], d["step"]) for d in lines] == [(outcome.job_id, s.name) for s in STEPS]
    assert lines[0]["outcome"] == records[0].outcome and "receive" in lines[0]["message"]


def test_a_rejected_ingest_logs_the_steps_up_to_the_one_that_failed(khoso, caplog):
    bag = make_sip(khoso.tmp / "sip", contents={"tai-lieu-2.png": EICAR})
    with caplog.at_level(logging.INFO, logger="ingest.pipeline"):
        outcome = khoso.ingest(bag)
    assert outcome.failed_step == "scan_viruses"
    records = step_records(caplog)
    names = [s.name for s in STEPS]
    assert [r.step for r in records] == names[:names.index("scan_viruses") + 1]
    assert records[-1].outcome == "failure" and records[-1].job_id == outcome.job_id
    assert "scan_viruses: failure" in records[-1].getMessage()
    assert " 0 error(s)" not in records[-1].getMessage()
