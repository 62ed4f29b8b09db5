"""The converters on real files: Ghostscript makes a PDF/A-2b siegfried recognises, Pillow a
lossless TIFF; every file they cannot convert is MIG002 with a reason a person can act on, and
a missing tool is the archive's fault (MIG004, transient)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pikepdf
import pygfried
import pytest
from PIL import Image, ImageChops

from ingest.adapters import migrate_pdfa
from ingest.adapters.migrate import converter_for
from preservation.catalog.vocab import MigrationTarget
from preservation.errors import KhosoError, Unavailable
from tests.support.migration import encrypted_pdf, gif87a
from tests.support.pki import minimal_pdf


def pdfa(tmp_path: Path, data: bytes, timeout: float = 60):
    (tmp_path / "in.pdf").write_bytes(data)
    return converter_for(MigrationTarget.PDFA_2B, timeout=timeout).convert(
        tmp_path / "in.pdf", tmp_path / "out.pdf", name="rep1/data/a.pdf")


def test_plain_pdf_becomes_pdfa_2b_with_its_pages_and_text(tmp_path: Path) -> None:
    run = pdfa(tmp_path, minimal_pdf("Hello khoso"))
    assert pygfried.identify(str(tmp_path / "in.pdf")) == "fmt/276"
    assert pygfried.identify(str(tmp_path / "out.pdf")) == "fmt/477"
    assert run.tool == "Ghostscript" and run.version.startswith("10.")
    assert "-dPDFA=2" in run.options
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        assert len(pdf.pages) == 1
        assert str(pdf.open_metadata().get("pdfaid:part")) == "2"
    text = [subprocess.run(["pdftotext", str(tmp_path / n), "-"], capture_output=True,
                           check=True).stdout for n in ("in.pdf", "out.pdf")]
    assert b"Hello khoso" in text[0] and text[0] == text[1]  # the text kept, not rasterised


@pytest.mark.parametrize(("make", "said_vi", "said_en"), [
    (lambda tmp: encrypted_pdf(tmp), "mật khẩu", "password"),
    (lambda tmp: minimal_pdf("x")[:180], "không đọc được tệp PDF gốc", "cannot be read"),
    (lambda tmp: b"%PDF-1.7\n" + b"\x00garbage" * 50, "không đọc được", "cannot be read"),
    (lambda tmp: b"", "không đọc được", "cannot be read"),
])
def test_a_pdf_it_cannot_convert_is_mig002_and_leaves_no_output(tmp_path, make, said_vi,
                                                                 said_en) -> None:
    with pytest.raises(KhosoError) as err:
        pdfa(tmp_path, make(tmp_path))
    assert err.value.code == "MIG002" and not err.value.transient
    assert said_vi in err.value.message("vi") and said_en in err.value.message("en")
    assert "rep1/data/a.pdf" in err.value.message("en")


def test_owner_encrypted_pdf_is_refused_since_pdfa_forbids_encryption(tmp_path) -> None:
    (tmp_path / "p.pdf").write_bytes(minimal_pdf("x"))
    with pikepdf.open(tmp_path / "p.pdf") as pdf:
        pdf.save(tmp_path / "o.pdf", encryption=pikepdf.Encryption(user="", owner="chu"))
    with pytest.raises(KhosoError) as err:
        pdfa(tmp_path, (tmp_path / "o.pdf").read_bytes())
    assert err.value.code == "MIG002" and "mã hóa" in err.value.message("vi")


def test_a_conversion_past_the_timeout_is_mig002(tmp_path) -> None:
    with pytest.raises(KhosoError) as err:
        pdfa(tmp_path, minimal_pdf("x"), timeout=0.0001)
    assert err.value.code == "MIG002" and "longer than" in err.value.message("en")


def test_missing_ghostscript_is_the_archives_fault(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(migrate_pdfa, "GS", str(tmp_path / "no-such-gs"))
    migrate_pdfa.ghostscript_version.cache_clear()
    try:
        with pytest.raises(Unavailable) as err:
            pdfa(tmp_path, minimal_pdf("x"))
    finally:
        migrate_pdfa.ghostscript_version.cache_clear()
    assert err.value.code == "MIG004" and err.value.transient
    assert "chi tiết kỹ thuật" in err.value.message("vi")


def image(tmp_path: Path, data: bytes):
    (tmp_path / "in.gif").write_bytes(data)
    return converter_for(MigrationTarget.TIFF, timeout=60).convert(
        tmp_path / "in.gif", tmp_path / "out.tif", name="rep1/data/b.gif")


def test_gif87a_becomes_a_lossless_tiff(tmp_path) -> None:
    run = image(tmp_path, gif87a(tmp_path))
    assert pygfried.identify(str(tmp_path / "out.tif")) == "fmt/353"
    assert run.tool == "Pillow"
    with Image.open(tmp_path / "out.tif") as t, Image.open(tmp_path / "in.gif") as g:
        assert t.info.get("compression") == "tiff_lzw"
        assert ImageChops.difference(t.convert("RGB"), g.convert("RGB")).getbbox() is None


def test_every_frame_of_a_multi_image_gif_is_kept(tmp_path) -> None:
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "m.gif", save_all=True, append_images=frames[1:])
    image(tmp_path, (tmp_path / "m.gif").read_bytes())
    with Image.open(tmp_path / "out.tif") as t, Image.open(tmp_path / "m.gif") as g:
        assert t.n_frames == g.n_frames == 3
        t.seek(2)
        g.seek(2)
        assert t.convert("RGB").getpixel((0, 0)) == g.convert("RGB").getpixel((0, 0)) == (
            0, 0, 255)


@pytest.mark.parametrize("data", [b"GIF87a\x10\x00", b"not an image at all", b""])
def test_an_image_it_cannot_read_is_mig002(tmp_path, data) -> None:
    with pytest.raises(KhosoError) as err:
        image(tmp_path, data)
    assert err.value.code == "MIG002" and "Pillow" in err.value.message("en")
    assert not (tmp_path / "out.tif").exists()


def test_an_image_too_big_to_decode_is_refused_not_converted(tmp_path, monkeypatch) -> None:
    data = gif87a(tmp_path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)  # 24 × 12 is more than twice that
    with pytest.raises(KhosoError) as err:
        image(tmp_path, data)
    assert err.value.code == "MIG002" and not (tmp_path / "out.tif").exists()
