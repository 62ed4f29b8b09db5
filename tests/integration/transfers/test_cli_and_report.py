"""``khoso transfer`` on a real instance (register, export to media, a bad receipt file, an
unreadable token file, a folder that is not empty) and the ``bien_ban_giao_nhan`` report's
rows and preamble (NĐ 30/2020 Phụ lục V fields) against the catalog."""

from __future__ import annotations

import json

import pytest

from access_api.services.base import ServiceContext
from access_api.services.reports import REPORTS
from access_api.services.reports.spec import ReportParams
from preservation.errors import NotFound
from tests.support.cli import cli_env, run
from tests.support.sips import make_sip
from tests.support.transfers import planned

pytestmark = pytest.mark.integration
CODE = "TTLTNA.H49.64.33.2001.160"


def test_the_cli_drives_a_media_transfer_and_refuses_bad_input(khoso, tmp_path):
    assert khoso.ingest(make_sip(tmp_path / "sip")).accepted
    env = cli_env(khoso)
    result = run(env, "transfer", "register", "--fonds", "P623", "--title", "Khối tài liệu 2001",
                 "--receiver", "TTLT lịch sử", "--planned", planned(), "--hoso", CODE, "--json")
    assert result.exit_code == 0, result.output
    tid = json.loads(result.stdout)["id"]
    result = run(env, "transfer", "register", "--fonds", "P623", "--title", "x",
                 "--receiver", "y", "--planned", "2027-01-01", "--hoso", CODE)
    assert result.exit_code == 1 and "TRF001" in result.output
    full = tmp_path / "full"
    full.mkdir()
    (full / "other.txt").write_text("x")
    result = run(env, "transfer", "export", tid, "--out", str(full))
    assert result.exit_code == 2 and "TRF024" in result.output
    assert sorted(p.name for p in full.iterdir()) == ["other.txt"]
    result = run(env, "transfer", "send", tid, "--url", "http://127.0.0.1:9",
                 "--token-file", str(tmp_path / "missing"))
    assert result.exit_code == 1 and "TRF028" in result.output
    out = tmp_path / "media"
    result = run(env, "--lang", "en", "transfer", "export", tid, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "processing" in result.output  # the status in English
    names = sorted(p.name for p in out.iterdir())
    assert names[-1] == "muc-luc-ho-so-nop-luu.json" and names[0].endswith(".zip")
    # media and the network are not mixed in one transfer
    result = run(env, "transfer", "send", tid, "--url", "http://127.0.0.1:9",
                 "--token-file", "-")
    assert result.exit_code == 2 and "TRF008" in result.output
    bad = tmp_path / "receipt.json"
    bad.write_text("{not json")
    result = run(env, "transfer", "receipt", tid, str(bad))
    assert result.exit_code == 1 and "TRF027" in result.output
    bad.write_text(json.dumps({"arcFileCode": "TTLTLS.H49.1999.9", "files": []}))
    result = run(env, "transfer", "receipt", tid, str(bad))
    assert result.exit_code == 2 and "TRF022" in result.output
    result = run(env, "transfer", "complete", tid)
    assert result.exit_code == 2 and "TRF009" in result.output
    result = run(env, "transfer", "show", tid, "--json")
    shown = json.loads(result.stdout)
    assert shown["status"] == "processing" and shown["media_dir"] == str(out)
    assert shown["total_files"] == 2

    # the hand-over record: by the transfer's id or by a hồ sơ in it
    spec = REPORTS["bien_ban_giao_nhan"]
    ctx = ServiceContext(khoso.settings, khoso.catalog)
    for key in (tid, CODE):
        rows = list(spec.rows(ctx, ReportParams(hoso=key)))
        assert rows == [(1, CODE, "", "Hồ sơ về việc thành lập Sở Nội vụ tỉnh Nghệ An năm 2001",
                         "2001-01-02 – 2001-12-28", 2, 2, "Đang xử lý")]
        assert len(rows[0]) == len(spec.columns)
    lines = spec.preamble(ctx, ReportParams(hoso=tid))
    assert "Tên khối tài liệu giao nộp: Khối tài liệu 2001 (phông P623)" in lines
    assert "Tổng số hồ sơ: 1" in lines and "Tổng số tệp tin trong hồ sơ: 2" in lines
    assert "Thời gian của hồ sơ, tài liệu: 2001–2001" in lines
    with pytest.raises(NotFound):
        list(spec.rows(ctx, ReportParams(hoso="TTLTNA.H49.9999")))


def test_the_cli_refuses_too_many_hoso_with_its_own_code(khoso):
    args = ["transfer", "register", "--fonds", "P623", "--title", "x", "--receiver", "y",
            "--planned", planned()]
    for n in range(5001):
        args += ["--hoso", f"C{n}"]
    result = run(cli_env(khoso), *args)
    assert result.exit_code == 1 and "TRF029" in result.output and "5001" in result.output
