"""Full-text search over hồ sơ and tài liệu (TT 05 text fields), insensitive to case and to
Vietnamese diacritics including đ/Đ, ranked, with snippets in the original text.

One interface (``backend.Backend``), two backends chosen by the catalog's dialect: SQLite FTS5
and PostgreSQL full text. ``index`` keeps it current, ``query`` searches it.
"""

from preservation.search.index import Reindexed, index_aip, reindex
from preservation.search.query import Hit, Scope, SearchQuery, SearchResult, search

__all__ = ["Hit", "Reindexed", "Scope", "SearchQuery", "SearchResult", "index_aip", "reindex",
           "search"]
