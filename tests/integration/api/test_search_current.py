"""The index follows the catalog: a real ingest makes an AIP searchable in the transaction that
registers it, a metadata correction (AIP v2) replaces the old version's entries, and the CLI
rebuilds and queries it."""

from __future__ import annotations

import json

import sqlalchemy as sa

from access_api.app import create_app
from preservation.catalog.models import SearchEntry
from tests.support.cli import cli_env, run
from tests.support.sheets import FILE_CODE as SIP_FILE_CODE
from tests.support.versions import EAD, ingest, retitle, update

URL = "/api/v1/search"
FILE_CODE = f"TTLTNA.{SIP_FILE_CODE}"  # the archival code the AIP gave the hồ sơ


def test_a_real_ingest_is_searchable_without_diacritics(khoso):
    objid, _ = ingest(khoso)
    client = create_app(khoso.settings, khoso.catalog).test_client()
    body = client.get(URL, query_string={"q": "so noi vu nghe an"}).get_json()
    assert [(h["kind"], h["fileCode"]) for h in body["hits"]] == [("record", FILE_CODE)]
    assert body["hits"][0]["title"] == "Hồ sơ về việc thành lập Sở Nội vụ tỉnh Nghệ An năm 2001"
    docs = client.get(URL, query_string={"q": "quyet dinh so 1", "kind": "document"}).get_json()
    assert [h["docCode"] for h in docs["hits"]] == [f"{FILE_CODE}.0000001"]
    assert docs["facets"]["type"] == {"02": 1} and docs["facets"]["year"] == {"2001": 1}
    pic = client.get(URL, query_string={"q": "ANH BUOI LE 2"}).get_json()
    assert [h["docCode"] for h in pic["hits"]] == [f"{FILE_CODE}.0000002"]
    assert "Ảnh buổi lễ 2" in pic["hits"][0]["snippet"]
    with khoso.catalog.session() as s:
        assert set(s.scalars(sa.select(SearchEntry.objid))) == {objid}


def test_a_metadata_correction_replaces_the_entries(khoso):
    objid, entity = ingest(khoso)
    ead = (khoso.replica("replica1") / entity / "v1" / EAD).read_bytes()
    outcome = update(khoso, objid, package_ead=retitle(ead, "Hồ sơ sáp nhập Đảng ủy khối"))
    assert outcome.accepted, outcome.report
    client = create_app(khoso.settings, khoso.catalog).test_client()
    found = client.get(URL, query_string={"q": "sap nhap dang uy"}).get_json()
    assert [h["title"] for h in found["hits"]] == ["Hồ sơ sáp nhập Đảng ủy khối"]
    assert client.get(URL, query_string={"q": "thanh lap so noi vu", "kind": "record"}
                      ).get_json()["total"] == 0
    with khoso.catalog.session() as s:  # one entry per hồ sơ and document, not one per version
        kinds = list(s.scalars(sa.select(SearchEntry.kind).order_by(SearchEntry.kind)))
    assert kinds == ["document", "document", "record"]


def test_cli_reindex_and_query(khoso):
    ingest(khoso)
    env = cli_env(khoso)
    first = run(env, "search", "reindex", "--json")
    assert first.exit_code == 0, first.output
    counts = json.loads(first.stdout)
    assert (counts["records"], counts["documents"]) == (1, 2) and counts["seconds"] >= 0
    again = json.loads(run(env, "search", "reindex", "--json").stdout)
    assert (again["records"], again["documents"]) == (1, 2)
    text = run(env, "--lang", "en", "search", "reindex")
    assert text.exit_code == 0 and "Indexed 1 hồ sơ and 2 documents" in text.stdout
    found = run(env, "search", "query", "quyet", "dinh", "--json")
    assert found.exit_code == 0, found.output
    assert [h["docCode"] for h in json.loads(found.stdout)["hits"]] == [
        f"{FILE_CODE}.0000001"]
    shown = run(env, "search", "query", "so", "noi", "vu")
    assert "Sở Nội vụ" in shown.stdout and FILE_CODE in shown.stdout
    bad = run(env, "search", "query", "x", "--from", "hôm qua")
    assert bad.exit_code == 1 and "SRCH002" in bad.output
