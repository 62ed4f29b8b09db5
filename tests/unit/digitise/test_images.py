"""Page-image checks (TT 05 Điều 8): each refusal's code, every problem reported at once."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from ingest.digitise.images import PageFormat, PageLimits, check_pages
from preservation.errors import ValidationFailed


def page(path: Path, *, dpi: int | None = 200, mode: str = "RGB", size=(400, 560),
         fmt: str | None = None) -> Path:
    colour = {"RGB": (240, 240, 230), "RGBA": (240, 240, 230, 255), "L": 200, "1": 1,
              "P": 3, "CMYK": (0, 0, 0, 10)}[mode]
    img = Image.new(mode, size, colour)
    if dpi is None:
        img.save(path, format=fmt)
    else:
        img.save(path, format=fmt, dpi=(dpi, dpi))
    return path


DEFAULT = PageLimits()


def refused(pages, limits=DEFAULT, **kw) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        check_pages(pages, limits, **kw)
    assert info.value.code == "DIG018"
    return info.value


def codes(exc: ValidationFailed) -> list[str]:
    return [i.code for i in exc.report.issues]


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims ``width`` × ``height`` RGB pixels, with no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
                     + struct.pack(">I", zlib.crc32(chunk)) + b"\0\0\0\0IEND\xaeB`\x82")
    return path


def test_good_pages_in_three_formats_pass_with_their_size_and_resolution(tmp_path):
    pages = [page(tmp_path / "p1.png"), page(tmp_path / "p2.jpg", dpi=300),
             page(tmp_path / "p3.tif", fmt="TIFF")]
    checked = check_pages(pages, PageLimits())
    assert [p.format for p in checked] == [PageFormat.PNG, PageFormat.JPEG, PageFormat.TIFF]
    assert [round(p.dpi[0]) for p in checked] == [200, 300, 200]
    assert checked[0].width == 400 and checked[0].height == 560


def test_zero_pages_is_refused():
    assert codes(refused([])) == ["DIG001"]


def test_150_dpi_is_refused_and_the_message_names_file_and_minimum(tmp_path):
    exc = refused([page(tmp_path / "scan.png", dpi=150)])
    assert codes(exc) == ["DIG006"]
    message = exc.report.issues[0].message("vi")
    assert "scan.png" in message and "150 dpi" in message and "200 dpi" in message


def test_drawings_need_300_dpi(tmp_path):
    good = page(tmp_path / "map.png", dpi=200)
    assert check_pages([good], PageLimits())
    exc = refused([good], drawings=True)
    assert codes(exc) == ["DIG006"]
    assert "300" in exc.report.issues[0].message("en")
    assert check_pages([page(tmp_path / "map300.png", dpi=300)], PageLimits(), drawings=True)


def test_a_minimum_below_the_circular_is_refused(tmp_path):
    assert codes(refused([page(tmp_path / "a.png")], PageLimits(min_dpi=150))) == ["DIG019"]


@pytest.mark.parametrize("mode", ["L", "1", "P", "CMYK"])
def test_greyscale_bitonal_palette_and_cmyk_are_refused_as_below_24_bit(tmp_path, mode):
    fmt = "JPEG" if mode == "CMYK" else None
    name = "c.jpg" if mode == "CMYK" else "c.png"
    exc = refused([page(tmp_path / name, mode=mode, fmt=fmt)])
    assert codes(exc) == ["DIG007"]
    assert "24" in exc.report.issues[0].message("vi")


def test_alpha_channel_is_refused(tmp_path):
    assert codes(refused([page(tmp_path / "a.png", mode="RGBA")])) == ["DIG008"]


def test_no_resolution_is_refused(tmp_path):
    assert codes(refused([page(tmp_path / "n.png", dpi=None)])) == ["DIG005"]


@pytest.mark.parametrize("name", ["t.png", "t.jpg", "t.tif"])
def test_a_truncated_image_is_refused(tmp_path, name):
    src = page(tmp_path / f"full-{name}", size=(800, 1000))
    with Image.open(src) as img:  # noise, so the compressed stream is long enough to cut
        noisy = Image.effect_noise(img.size, 60).convert("RGB")
        noisy.save(src, dpi=(200, 200))
    data = src.read_bytes()
    cut = tmp_path / name
    cut.write_bytes(data[: len(data) // 2])
    assert codes(refused([cut])) == ["DIG004"]


def test_a_file_that_is_not_an_image_is_refused(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("không phải ảnh", encoding="utf-8")
    assert codes(refused([text])) == ["DIG020"]


def test_an_image_format_other_than_tiff_jpeg_png_is_refused(tmp_path):
    gif = tmp_path / "p.gif"
    Image.new("RGB", (50, 50)).save(gif)
    exc = refused([gif])
    assert codes(exc) == ["DIG003"] and "GIF" in exc.report.issues[0].message("en")


def test_a_missing_file_is_refused(tmp_path):
    assert codes(refused([tmp_path / "nothing.png"])) == ["DIG002"]


def test_huge_dimensions_are_refused_from_the_header_without_decoding(tmp_path):
    over_limit = png_header_only(tmp_path / "big.png", 20_000, 20_000)  # 400 Mpx
    exc = refused([over_limit], PageLimits(max_page_pixels=50_000_000))
    assert codes(exc) == ["DIG009"]
    assert "400000000" in exc.report.issues[0].message("en")


def test_a_decompression_bomb_beyond_pillows_own_guard_is_refused(tmp_path):
    bomb = png_header_only(tmp_path / "bomb.png", 100_000, 100_000)
    assert codes(refused([bomb])) == ["DIG009"]


def test_a_multi_page_tiff_is_refused(tmp_path):
    tif = tmp_path / "multi.tif"
    frames = [Image.new("RGB", (60, 80), (255, 255, 255)) for _ in range(3)]
    frames[0].save(tif, save_all=True, append_images=frames[1:], dpi=(200, 200))
    assert codes(refused([tif])) == ["DIG010"]


def test_a_missing_page_in_a_numbered_series_is_refused_by_number(tmp_path):
    pages = [page(tmp_path / f"hs_{n:03}.png") for n in (1, 2, 4)]
    exc = refused(pages)
    assert codes(exc) == ["DIG011"]
    assert exc.report.issues[0].params["missing"] == 3


def test_pages_out_of_order_are_refused(tmp_path):
    pages = [page(tmp_path / f"p{n}.png") for n in (1, 3, 2)]
    assert "DIG012" in codes(refused(pages))


def test_unnumbered_names_keep_the_order_given(tmp_path):
    pages = [page(tmp_path / n) for n in ("cover.png", "body.png", "back.png")]
    assert [p.path.name for p in check_pages(pages, PageLimits())] == [
        "cover.png", "body.png", "back.png"]


def test_the_same_page_twice_is_refused(tmp_path):
    one = page(tmp_path / "a.png")
    assert codes(refused([one, tmp_path / "." / "a.png"])) == ["DIG013"]


def test_too_many_pages_are_refused_before_any_is_opened(tmp_path):
    pages = [tmp_path / f"p{n}.png" for n in range(1, 6)]  # none exists: never opened
    assert codes(refused(pages, PageLimits(max_pages=4))) == ["DIG014"]


def test_every_problem_of_every_page_is_reported_at_once(tmp_path):
    pages = [page(tmp_path / "p1.png", dpi=100), page(tmp_path / "p2.png", mode="L"),
             page(tmp_path / "p3.png"), page(tmp_path / "p5.png", dpi=None)]
    assert sorted(codes(refused(pages))) == ["DIG005", "DIG006", "DIG007", "DIG011"]


def test_a_page_that_asks_to_be_turned_by_exif_is_refused(tmp_path):
    img = Image.new("RGB", (400, 300), (240, 240, 230))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    img.save(tmp_path / "phone.jpg", dpi=(200, 200), exif=exif)
    exc = refused([tmp_path / "phone.jpg"])
    assert codes(exc) == ["DIG021"] and exc.report.issues[0].params["orientation"] == 6
    exif[0x0112] = 1
    img.save(tmp_path / "upright.jpg", dpi=(200, 200), exif=exif)
    assert check_pages([tmp_path / "upright.jpg"], DEFAULT)
