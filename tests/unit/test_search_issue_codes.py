"""The SRCH issue codes (full-text search) as a family of ``test_issue_codes``: each declared
code is raised by the search code and each one raised is declared, in both languages."""

from __future__ import annotations

import pytest

from preservation.issues import Issue, issue_catalog
from tests.unit.test_issue_codes import PARAM, VIETNAMESE, Family

SEARCH = Family("search", "SRCH", ("access_api/services/search.py", "preservation/search/*.py",
                                   "access_api/api/search.py"))


def test_declared_codes_are_raised_and_raised_codes_declared() -> None:
    assert SEARCH.declared().keys() == SEARCH.used()


@pytest.mark.parametrize("code", sorted(SEARCH.declared()))
def test_code_renders_in_both_languages_with_the_same_parameters(code: str) -> None:
    assert SEARCH.shape.fullmatch(code)
    definition = issue_catalog()[code]
    assert VIETNAMESE.search(definition.vi.lower()) and definition.vi != definition.en
    assert set(PARAM.findall(definition.vi)) == set(PARAM.findall(definition.en))
    names = set(PARAM.findall(definition.vi))
    issue = Issue(code, "from", {n: f"<{n}>" for n in names})
    assert all(f"<{n}>" in issue.message("vi") and f"<{n}>" in issue.message("en")
               for n in names)
