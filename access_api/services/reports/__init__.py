"""Registers and reports (#15): the specification (``spec``), each area's definitions, the
renderers. Importing this package registers every report."""

from access_api.services.reports import (  # noqa: F401 - each module registers its reports
    catalog_lists,
    disposal,
    repository,
    transfers,
)
from access_api.services.reports.spec import REPORTS, ReportSpec, register

__all__ = ["REPORTS", "ReportSpec", "register"]
