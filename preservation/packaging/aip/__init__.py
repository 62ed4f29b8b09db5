"""The AIP on-storage format, one owner for each part: what writes a format also reads it.

- :mod:`.layout` — the key layout (``{archive}/{fonds}/{code}/v{N}``, sidecar keys, fetch URLs
  between versions);
- :mod:`.bagit` — BagIt tag files (bagit.txt, bag-info.txt, manifests, fetch.txt) and the
  percent-encoding of their paths;
- PREMIS is written and read in :mod:`preservation.packaging.premis`, METS in
  :mod:`preservation.packaging.mets` and :mod:`preservation.packaging.read`.
"""
