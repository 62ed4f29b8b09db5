"""``khoso init`` makes the archive's signing key and puts its certificate in the trust folder,
so that what the archive signs itself validates as trusted by khoso's own signature check:
here a PDF/A signed by ``khoso digitise pdf``, then ingested through ``khoso ingest``. A second
init changes nothing; a different file already under the certificate's name is never
replaced; a new key (``khoso keys init --force``) adds its certificate beside the old one."""

from __future__ import annotations

from pathlib import Path

from preservation.signing import CERT_FILE
from tests.support.cli import as_json, codes, run
from tests.support.digitised import render_page
from tests.support.sips import make_sip


def trusted(env: dict[str, str]) -> dict[str, bytes]:
    folder = Path(env["KHOSO_DATA_DIR"]) / "trust"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def own_certificate(env: dict[str, str]) -> bytes:
    return (Path(env["KHOSO_DATA_DIR"]) / "keys" / CERT_FILE).read_bytes()


def test_what_the_archive_signs_after_init_is_trusted(env, tmp_path):
    """``env`` ran ``khoso init``: the certificate is in the trust folder, and a PDF the
    archive signed is accepted by ingest's signature validation (SIG004 before)."""
    assert list(trusted(env).values()) == [own_certificate(env)]
    page = render_page(tmp_path / "trang-1.png", "Quyết định thành lập Sở Nội vụ")
    made = run(env, "digitise", "pdf", str(page), "--out", str(tmp_path / "ky.pdf"), "--json")
    assert made.exit_code == 0, made.output
    signed = (tmp_path / "ky.pdf").read_bytes()
    result = run(env, "ingest", str(make_sip(tmp_path / "sip", count=1,
                                             contents={"tai-lieu-1.pdf": signed})),
                 "--wait", "--json")
    out = as_json(result)
    assert result.exit_code == 0 and out["accepted"] is True, codes(out)
    assert "SIG004" not in codes(out)


def test_init_again_changes_nothing_and_never_replaces_another_file(env):
    before = trusted(env)
    again = run(env, "init")
    assert again.exit_code == 0, again.output
    assert trusted(env) == before
    (name,) = before
    path = Path(env["KHOSO_DATA_DIR"]) / "trust" / name
    path.write_bytes(b"-----BEGIN CERTIFICATE-----\nsomeone else's\n-----END CERTIFICATE-----\n")
    refused = run(env, "--lang", "en", "init")
    assert refused.exit_code != 0
    assert "KEY090" in refused.output and name in refused.output
    assert path.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----\nsomeone else's")
    vietnamese = run(env, "init")
    assert "KEY090" in vietnamese.output and "không ghi đè" in vietnamese.output


def test_a_new_key_adds_its_certificate_and_keeps_the_old_one(env):
    old = own_certificate(env)
    rotated = run(env, "keys", "init", "--force")
    assert rotated.exit_code == 0, rotated.output
    new = own_certificate(env)
    assert new != old
    assert sorted(trusted(env).values()) == sorted([old, new])
    assert run(env, "init").exit_code == 0
    assert len(trusted(env)) == 2

