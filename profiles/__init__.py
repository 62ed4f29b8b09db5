"""BagIt profiles (bagit-profiles 1.4 JSON) for submissions and AIPs, shipped as package data.

``sip-tt05`` is the submission agreement agencies pack against; ``aip-khoso`` describes the bags
the archive itself stores. Profiles are read from this folder only, never fetched from their URI.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

PROFILE_DIR = Path(__file__).resolve().parent
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def load_profile(name: str) -> dict[str, Any]:
    """The profile ``name`` (``"sip-tt05"`` or ``"sip-tt05.json"``) as a fresh dict."""
    stem = name.removesuffix(".json")
    if not _NAME.match(stem):
        raise ValueError(f"invalid profile name {name!r}")
    path = PROFILE_DIR / f"{stem}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no BagIt profile {stem!r} in {PROFILE_DIR}")
    return json.loads(path.read_text(encoding="utf-8"))
