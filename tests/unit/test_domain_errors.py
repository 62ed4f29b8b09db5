"""Domain exceptions keep the words of the issue they are raised under."""

from preservation.errors import ValidationFailed
from preservation.issues import Report


def test_validation_failed_under_its_own_issue_code_keeps_that_issues_parameters():
    report = Report()
    report.add("VER008", "pkg", objid="AIP-1", version=3)
    exc = ValidationFailed(report, "VER008")
    assert exc.code == "VER008"
    assert "v3" in exc.message("en") and "AIP-1" in exc.message("en")
    assert "?" not in exc.message("vi")
    assert exc.issue.params["count"] == 1 and exc.issue.path == "pkg"


def test_validation_failed_under_the_general_code_counts_the_errors():
    report = Report()
    report.add("VER008", "pkg", objid="AIP-1", version=3)
    exc = ValidationFailed(report)
    assert exc.code == "GEN001"
    assert "VER008" in exc.message("en")
