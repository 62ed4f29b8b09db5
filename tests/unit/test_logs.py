"""Log lines as text or JSON lines (KHOSO_LOG_FORMAT), with a job's id, step and outcome."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from preservation.errors import ConfigError
from preservation.logs import JsonFormatter, StderrHandler, TextFormatter, configure_logging
from preservation.settings import load_settings


def record(**extra) -> logging.LogRecord:
    rec = logging.LogRecord("ingest.jobs", logging.INFO, __file__, 1, "job %s accepted",
                            ("j-1",), None)
    rec.__dict__.update(extra)
    return rec


def test_json_lines_carry_job_step_and_outcome():
    line = JsonFormatter().format(record(job_id="j-1", step="register", outcome="accepted"))
    data = json.loads(line)
    assert "\n" not in line
    assert data["message"] == "job j-1 accepted" and data["level"] == "INFO"
    assert data["logger"] == "ingest.jobs" and data["time"].endswith("+00:00")
    assert (data["job_id"], data["step"], data["outcome"]) == ("j-1", "register", "accepted")
    assert "step" not in json.loads(JsonFormatter().format(record()))


def test_json_line_keeps_a_traceback_as_a_field():
    try:
        raise ValueError("boom")
    except ValueError:
        rec = record()
        rec.exc_info = sys.exc_info()
    data = json.loads(JsonFormatter().format(rec))
    assert "ValueError: boom" in data["exc"]


def test_text_lines_end_with_the_job_fields():
    text = TextFormatter().format(record(job_id="j-1", step="scan_viruses", outcome="rejected"))
    assert text.endswith("INFO ingest.jobs: job j-1 accepted [job=j-1 step=scan_viruses "
                         "outcome=rejected]")
    assert TextFormatter().format(record()).endswith("ingest.jobs: job j-1 accepted")


def test_configure_logging_is_idempotent_and_follows_stderr(monkeypatch):
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        configure_logging("INFO", "json")
        configure_logging("DEBUG", "json")
        ours = [h for h in root.handlers if isinstance(h, StderrHandler)]
        assert len(ours) == 1 and root.level == logging.DEBUG
        swapped = io.StringIO()
        monkeypatch.setattr(sys, "stderr", swapped)
        logging.getLogger("khoso.test").info("hello", extra={"job_id": "j-2"})
        assert json.loads(swapped.getvalue())["job_id"] == "j-2"
    finally:
        for h in [h for h in root.handlers if isinstance(h, StderrHandler)]:
            root.removeHandler(h)
        root.handlers[:] = before[0]
        root.setLevel(before[1])


def test_log_format_setting_is_text_or_json():
    assert load_settings({}).log_format == "text"
    assert load_settings({"KHOSO_LOG_FORMAT": "json"}).log_format == "json"
    with pytest.raises(ConfigError) as err:
        load_settings({"KHOSO_LOG_FORMAT": "xml"})
    assert err.value.code == "CFG002" and "KHOSO_LOG_FORMAT" in err.value.message("en")


def test_a_root_logger_handled_by_someone_else_only_gets_its_level():
    root = logging.getLogger()
    before = list(root.handlers), root.level
    other = logging.StreamHandler(io.StringIO())
    try:
        root.handlers[:] = [other]
        assert configure_logging("ERROR", unless_handled=True) is None
        assert root.handlers == [other] and root.level == logging.ERROR
        root.handlers[:] = []
        assert isinstance(configure_logging("INFO", unless_handled=True), StderrHandler)
    finally:
        root.handlers[:] = before[0]
        root.setLevel(before[1])
