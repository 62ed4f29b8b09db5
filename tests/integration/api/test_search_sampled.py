"""A search past ``EXACT_LIMIT`` matches, on SQLite FTS5 and PostgreSQL: the total and the facets
are estimates from a sample spread over the whole index (said so: ``exact`` false), the hits are
the best ranked of the sample and hold every word, a reader still never meets a secret entry,
the same query gives the same page twice, and a page past what was ranked is refused with
SRCH004 rather than answered empty. The limits are lowered so a small catalog crosses them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from access_api.app import create_app
from preservation.catalog.models import Agency, Fonds, SearchEntry
from preservation.search import query
from tests.support.search import ORGAN_A, add_aip, tokens

URL = "/api/v1/search"
RECORDS = 40
DOCS = 6  # every document holds "ngân sách"; every third record is secret (03)


@pytest.fixture
def api(khoso, monkeypatch):
    with khoso.catalog.session() as s:
        agency = s.scalar(sa.select(Agency).where(Agency.organ_id == ORGAN_A))
        fonds = s.scalar(sa.select(Fonds).where(Fonds.fond_code == "P623"))
        for r in range(RECORDS):
            year = 2000 + r % 5
            add_aip(s, f"urn:test:n{r}", fonds, agency, {
                "file_code": f"P623.{year}.{r:02d}", "mode": "03" if r % 3 == 0 else "01",
                "start_date": f"{year}-01-01",
                "title": f"Hồ sơ ngân sách xã số {r}" if r % 2 else f"Hồ sơ đất đai số {r}",
                "description": None if r % 2 else "Có nhắc tới ngân sách xã"},
                [{"subject": f"Báo cáo ngân sách quý {d} năm {year}", "type_name": "05",
                  "issued_date": f"{year}-0{d}-01"} for d in range(1, DOCS + 1)])
    monkeypatch.setattr(query, "EXACT_LIMIT", 30)
    monkeypatch.setattr(query, "BLOCKS", 5)
    monkeypatch.setattr(query, "PER_BLOCK", 12)
    monkeypatch.setattr(query, "RANK_SAMPLE", 20)
    client = create_app(khoso.settings, khoso.catalog).test_client()
    client.headers_by_role = tokens(khoso)
    return client


def get(api, role="anonymous", status=200, **params):
    response = api.get(URL, query_string=params, headers=api.headers_by_role[role])
    assert response.status_code == status, response.get_json()
    return response.get_json()


def exact_count(khoso, *, secret: bool) -> int:
    with khoso.catalog.session() as s:
        modes = ("01", "02", "03") if secret else ("01", "02")
        return sum(1 for e in s.scalars(sa.select(SearchEntry).where(SearchEntry.mode.in_(modes)))
                   if "ngan" in e.title_f.split() + e.body_f.split())


@pytest.mark.parametrize("role", ["anonymous", "archivist"])
def test_past_the_limit_the_total_and_facets_are_estimates_said_as_such(api, khoso, role):
    body = get(api, role, q="ngân sách", size=5)
    true = exact_count(khoso, secret=role == "archivist")
    assert true > 30 and body["exact"] is False
    assert abs(body["total"] - true) <= 0.35 * true, (body["total"], true)
    assert abs(sum(body["facets"]["mode"].values()) - body["total"]) <= len(
        body["facets"]["mode"])  # each count rounded on its own
    assert set(body["facets"]["year"]) <= {str(y) for y in range(2000, 2005)}
    assert 0 < body["ranked"] <= 5 * 12 and len(body["hits"]) == 5
    for hit in body["hits"]:
        assert "ngân sách" in (hit["title"] + " " + hit["snippet"]).lower()
    if role == "anonymous":  # the sample is drawn from what the caller may see
        assert "03" not in body["facets"]["mode"]
        assert all(h["mode"] != "03" for h in body["hits"])


def test_a_sampled_result_is_the_same_twice_and_pages_do_not_overlap(api):
    first = get(api, "archivist", q="ngan sach", size=4)
    assert first == get(api, "archivist", q="ngan sach", size=4)
    second = get(api, "archivist", q="ngan sach", size=4, page=2)
    codes = [h["docCode"] or h["fileCode"] for h in first["hits"] + second["hits"]]
    assert len(set(codes)) == len(codes) == 8


def test_a_page_past_what_was_ranked_is_refused_not_answered_empty(api):
    body = get(api, "archivist", q="ngan sach", size=5)
    last = -(-body["ranked"] // 5)
    assert get(api, "archivist", q="ngan sach", size=5, page=last)["hits"]
    refused = get(api, "archivist", 422, q="ngan sach", size=5, page=last + 1)
    assert refused["code"] == "SRCH001"
    issue = refused["issues"][0]
    assert issue["code"] == "SRCH004" and f"trang {last}" in issue["message"]
    assert "filter by fonds" in issue["message_en"]


def test_title_matches_rank_first_within_the_sample(api):
    body = get(api, "archivist", q="ngan sach", kind="record", size=50)
    assert body["exact"] is False
    in_title = ["ngân sách" in h["title"] for h in body["hits"]]
    assert True in in_title and False in in_title  # both kinds were sampled
    assert in_title == sorted(in_title, reverse=True)  # every title match first


def test_under_the_limit_nothing_is_estimated(api, khoso):
    body = get(api, "archivist", q="dat dai")
    assert body["exact"] is True and body["total"] == body["ranked"] == RECORDS // 2
    assert sum(body["facets"]["mode"].values()) == RECORDS // 2
