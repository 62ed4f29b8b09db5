"""The ``khoso`` command: the root group in ``base``, one module per group of commands.

Exit codes: 0 success, 1 rejected input (with every problem listed), 2 usage or system error;
``bag validate`` also 3: valid but incomplete (fetch.txt, never fetched)."""

from access_api.cli import (  # noqa: F401 - registers the commands
    admin,
    aip,
    codes,
    digitise,
    digitise_plan,
    disposal,
    integrity,
    issues,
    jobs,
    migrate,
    reports,
    repository,
    runtime,
    search,
    submission,
    transfer,
    users,
)
from access_api.cli.base import main

__all__ = ["main"]
