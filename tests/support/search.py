"""What the full-text search tests share: the schema objects a search backend owns outside the
models (``preservation.search.backend``), and role tokens for API calls."""

from __future__ import annotations

from typing import Any

BACKEND_TABLE_PREFIX = "search_fts"  # SQLite FTS5: the virtual table and its shadow tables


def owned_by_search_backend(diff: Any) -> bool:
    """An ``alembic.autogenerate.compare_metadata`` difference that is a search backend's own
    object (the FTS5 tables, PostgreSQL's generated ``tsv`` column and its GIN index), which no
    model declares on purpose: each exists on one dialect only."""
    if isinstance(diff, list):  # column modifications come as a list of tuples
        return all(owned_by_search_backend(d) for d in diff)
    kind = diff[0]
    if kind == "remove_table":
        return str(diff[1].name).startswith(BACKEND_TABLE_PREFIX)
    if kind == "remove_column":
        return diff[2] == "search_entry" and diff[3].name == "tsv"
    if kind == "remove_index":
        return diff[1].name == "ix_search_entry_tsv"
    return False
