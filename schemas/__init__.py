"""TT 05/2025 metadata schemas shipped with khoso.

``tt05.json`` is the single source for code lists and EAD field tables; the ``*.xsd`` files are
generated from it by ``python -m preservation.metadata.xsdgen`` and committed so that packages can
copy them verbatim (each of ``sip/``, ``aip/``, ``dip/`` is self-contained).
"""

from pathlib import Path

SCHEMA_DIR = Path(__file__).parent
