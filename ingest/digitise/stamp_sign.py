"""The digitising archive's signature on a PDF/A (TT 05/2025/TT-BNV Điều 8 khoản 1).

PAdES (ETSI.CAdES.detached) through pyHanko, written as an incremental update: the PDF/A bytes
stay as they were, so PDF/A conformance holds and the signature covers the entire file. The
visible appearance is what TT 05 asks: the agency's name and the signing time in ISO 8601 with
the Vietnam offset (+07:00), Times New Roman 10 pt (Liberation Serif, its metric twin, embedded
as a subset with a ToUnicode map), upright, black, no border, no seal image, at the top right
of the first page. The stamp is never scaled: its box is measured from the font's own widths.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, Any

from preservation.signing import ArchiveSigner

VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")
FIELD_NAME = "KhosoDigitisation"
FONT_SIZE = 10  # pt (TT 05: cỡ chữ 10)
LEADING = 12  # pt between the two lines
MARGIN = 18  # pt from the top and right edges of the page (≈ 6 mm)
MAX_AGENCY_CHARS = 200


@dataclass(frozen=True, slots=True)
class StampText:
    agency_name: str
    signed_at: str  # ISO 8601 with +07:00, to the second

    @property
    def lines(self) -> tuple[str, str]:
        return self.agency_name, self.signed_at


def stamp_text(agency_name: str, signed_at: dt.datetime) -> StampText:
    """The text shown: the name in NFC (precomposed letters the font has glyphs for) and the
    time in Vietnam's offset whatever zone the caller used."""
    if signed_at.tzinfo is None:
        raise ValueError("signed_at must be timezone-aware")
    when = signed_at.astimezone(VIETNAM).replace(microsecond=0, tzinfo=None)
    return StampText(unicodedata.normalize("NFC", agency_name.strip()),
                     when.isoformat() + "+07:00")


def agency_name_problem(agency_name: str, font: Path) -> tuple[str, str] | None:
    """Why the name cannot be shown (Vietnamese, English), or None."""
    name = unicodedata.normalize("NFC", agency_name.strip())
    if not name:
        return "tên trống", "the name is empty"
    if len(name) > MAX_AGENCY_CHARS:
        return (f"dài hơn {MAX_AGENCY_CHARS} ký tự", f"longer than {MAX_AGENCY_CHARS} characters")
    bad = sorted({c for c in name if unicodedata.category(c)[0] == "C"})
    if bad:
        return "có ký tự điều khiển hoặc xuống dòng", "it holds control or line-break characters"
    missing = sorted({c for c in name if ord(c) not in _cmap(str(font))})
    if missing:
        shown = " ".join(missing)
        return (f"phông chữ không có các ký tự: {shown}", f"the font lacks the characters: {shown}")
    return None


@cache
def _cmap(font: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(font, lazy=True) as tt:
        return frozenset(tt.getBestCmap())


@cache
def _metrics(font: str) -> tuple[dict[int, str], dict[str, tuple[int, int]], int]:
    from fontTools.ttLib import TTFont

    with TTFont(font, lazy=True) as tt:
        return dict(tt.getBestCmap()), dict(tt["hmtx"].metrics), int(tt["head"].unitsPerEm)


def text_width(text: str, font: Path, size: float = FONT_SIZE) -> float:
    """Advance width in points (no kerning: an upper bound for the box)."""
    cmap, hmtx, upem = _metrics(str(font))
    return sum(hmtx[cmap[ord(c)]][0] for c in text if ord(c) in cmap) * size / upem


def stamp_box(page_box: tuple[float, float, float, float], text: StampText, font: Path
              ) -> tuple[int, int, int, int]:
    """The signature field's rectangle at the top right of a page (PDF user space)."""
    x0, y0, x1, y1 = page_box
    # slack for the text box's own padding and the descenders of the last line: the stamp is
    # never scaled (NO_SCALING), so a box too small would clip it
    width = max(text_width(line, font) for line in text.lines) + 24
    height = LEADING * len(text.lines) + 16
    right, top = x1 - MARGIN, y1 - MARGIN
    return (int(right - width), int(top - height), int(right), int(top))


@cache
def font_1000_upem(font: str, text: str) -> bytes:
    """The glyphs of ``text`` from ``font``, rescaled to 1000 units per em, without hinting.

    pyHanko 0.38 writes a TrueType font's ``/W`` widths in the font's own units, while PDF
    reads them as thousandths of an em: a font with 2048 units per em (Liberation Serif, Times
    New Roman) comes out with every advance about twice too wide (seen 2026-12-07: the stamp
    text ran off the page). Rescaling the font to 1000 units makes both agree. Only the
    characters shown are kept first (0.25 s against 4 s for the whole font, measured
    2026-12-07); hinting goes, as it addresses the old grid. pyHanko subsets it again."""
    import io

    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.scaleUpem import scale_upem

    options = subset.Options()
    options.hinting = False
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.drop_tables += ["FFTM"]
    with TTFont(font) as tt:
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(tt)
        if tt["head"].unitsPerEm != 1000:
            scale_upem(tt, 1000)
        buf = io.BytesIO()
        tt.save(buf)
        return buf.getvalue()


def _font_factory(font: Path, text: StampText) -> Any:
    import io

    from pyhanko.pdf_utils.font.basic import FontEngineFactory
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator

    data = font_1000_upem(str(font), "".join(sorted(set("".join(text.lines)))))

    class _Factory(FontEngineFactory):
        def create_font_engine(self, writer: Any, obj_stream: Any = None) -> Any:
            return GlyphAccumulator(writer=writer, font_handle=io.BytesIO(data),
                                    font_size=FONT_SIZE, bcp47_lang_code="vi",
                                    obj_stream=obj_stream)

    return _Factory()


@contextmanager
def _no_dsa_warning() -> Iterator[None]:
    """pyHanko's signer module imports cryptography's DSA type, which warns on import
    (CryptographyDeprecationWarning) and would print on an operator's console; khoso signs
    with EC or RSA keys only."""
    from cryptography.utils import CryptographyDeprecationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        yield


def pyhanko_signer(archive: ArchiveSigner) -> Any:
    from asn1crypto import keys as akeys
    from asn1crypto import x509 as ax509
    from cryptography.hazmat.primitives import serialization as ser
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    with _no_dsa_warning():
        from pyhanko.sign import signers

    cert = ax509.Certificate.load(archive.certificate.public_bytes(ser.Encoding.DER))
    key = akeys.PrivateKeyInfo.load(archive.key.private_bytes(
        ser.Encoding.DER, ser.PrivateFormat.PKCS8, ser.NoEncryption()))
    return signers.SimpleSigner(signing_cert=cert, signing_key=key,
                                cert_registry=SimpleCertificateStore.from_certs([cert]))


def sign_pdfa(source: IO[bytes], output: IO[bytes], *, archive: ArchiveSigner,
              text: StampText, font: Path, signed_at: dt.datetime) -> None:
    """Append a signed revision to ``source`` (read from its start), writing the whole file
    to ``output``."""
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.text import TextBoxStyle

    with _no_dsa_warning():
        from pyhanko.sign import fields, signers
    from pyhanko.stamp import TextStampStyle

    class _TimedSigner(signers.PdfSigner):
        """pyHanko takes the clock's time; the caller's ``signed_at`` is the time shown and
        the /M of the signature dictionary, so both say the same second."""

        def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False
                                 ) -> Any:
            session = super().init_signing_session(pdf_out, existing_fields_only)
            session.system_time = signed_at.replace(microsecond=0)
            return session

        def register_extensions(self, pdf_out: Any, *, md_algorithm: str) -> None:
            """PAdES's ESIC extension only (a PDF 1.7 extension level). pyHanko would also
            mark an ECDSA P-256 signature with the ISO 32002 extension and raise the file to
            PDF 2.0, which PDF/A-2 (based on PDF 1.7) does not allow."""
            from pyhanko.sign.signers import constants

            pdf_out.ensure_output_version(version=(1, 7))
            pdf_out.register_extension(constants.ESIC_EXTENSION_1)

    writer = IncrementalPdfFileWriter(source, strict=False)
    page = writer.prev.find_page_for_modification(0)[0].get_object()
    media = [float(v) for v in page["/MediaBox"]]
    box = stamp_box((media[0], media[1], media[2], media[3]), text, font)
    style = TextStampStyle(
        stamp_text="%(agency)s\n%(when)s",
        text_box_style=TextBoxStyle(font=_font_factory(font, text),
                                    font_size=FONT_SIZE, leading=LEADING,
                                    text_color=(0.0, 0.0, 0.0)),
        border_width=0, background=None,
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MAX, y_align=layout.AxisAlignment.ALIGN_MAX,
            inner_content_scaling=layout.InnerScaling.NO_SCALING))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES, name=text.agency_name,
        reason="Số hóa tài liệu lưu trữ (Thông tư 05/2025/TT-BNV Điều 8)")
    pdf_signer = _TimedSigner(meta, signer=pyhanko_signer(archive), stamp_style=style,
                              new_field_spec=fields.SigFieldSpec(FIELD_NAME, on_page=0, box=box))
    pdf_signer.sign_pdf(writer, output=output,
                        appearance_text_params={"agency": text.agency_name,
                                                "when": text.signed_at})
