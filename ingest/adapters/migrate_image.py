"""Images → TIFF with Pillow, lossless (LZW), every frame kept.

Pillow's decompression-bomb guard stays on: an image too big to decode is refused (MIG002),
never half converted.
"""

from __future__ import annotations

from pathlib import Path

import PIL
from PIL import Image, ImageSequence

from ingest.adapters.migrate import ToolRun, refused
from preservation.catalog.vocab import MigrationTarget

TIFF_MODES = frozenset({"1", "L", "P", "RGB", "RGBA", "CMYK"})
OPTIONS = "TIFF, compression=tiff_lzw, every frame"


class PillowTiff:
    target = MigrationTarget.TIFF
    extension = ".tif"

    def convert(self, source: Path, out: Path, *, name: str) -> ToolRun:
        try:
            with Image.open(source) as probe:
                probe.verify()  # structure first: a truncated file is refused here
            with Image.open(source) as img:
                frames = [f.copy() if f.mode in TIFF_MODES else f.convert("RGBA")
                          for f in ImageSequence.Iterator(img)]
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            raise refused(name, self.target,
                          f"Pillow không đọc được ảnh (chi tiết kỹ thuật: {str(exc)[:200]})",
                          f"Pillow cannot read the image: {str(exc)[:200]}") from None
        frames[0].save(out, format="TIFF", compression="tiff_lzw", save_all=len(frames) > 1,
                       append_images=frames[1:])
        return ToolRun("Pillow", PIL.__version__, OPTIONS)
