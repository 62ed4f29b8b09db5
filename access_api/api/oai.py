"""OAI-PMH 2.0 (oai_dc) cho hồ sơ công khai (public records)."""

from __future__ import annotations

from apiflask import APIBlueprint

bp = APIBlueprint("oai", __name__, url_prefix="" or None, tag="oai")
