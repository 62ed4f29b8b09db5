"""What every renderer draws: one report, its heading and its rows, in one language.

The renderers (``render_pdf``, ``render_xlsx``, ``render_text``) take a ``Sheet`` and know
nothing of the catalog; ``rows`` is consumed once, as it is drawn."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from access_api.services.reports.spec import Column

NATIONAL = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")


@dataclass
class Sheet:
    name: str
    title: str
    archive_name: str
    columns: tuple[Column, ...]
    rows: Iterator[Sequence[Any]]
    preamble: tuple[str, ...] = ()
    signers: tuple[str, ...] = ()
    lang: str = "vi"
    landscape: bool = True
    place: str = ""

    def labels(self) -> list[str]:
        return [c.label(self.lang) for c in self.columns]


def text(value: Any) -> str:
    """A cell as printed: NFC text (a font has the precomposed Vietnamese letters, not every
    combining sequence), dates as dd/mm/yyyy, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return ("Có" if value else "Không")
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return unicodedata.normalize("NFC", str(value))


def plain(value: Any) -> Any:
    """A cell as JSON: numbers stay numbers, dates ISO 8601."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)
