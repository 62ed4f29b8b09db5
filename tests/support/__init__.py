"""Helpers shared by tests: builders of bags, SIPs, PDFs and test PKI, sample records, fake
AIPs. Plain functions and classes, no fixtures (those stay in ``conftest.py`` and call these);
one package, so a test never imports another test module or a ``conftest.py``.

| module | holds |
|---|---|
| ``bags`` | BagIt bags and hostile archives (zip, tar, sparse members) for the unpack/bag units |
| ``sheets`` | SIP source folders and their metadata sheets (CSV, XLSX, JSON) |
| ``sips`` | valid SIP bags with real PDF/PNG content (``make_sip``), big PDFs |
| ``hostile`` | bag surgery that keeps a bag consistent, hand-made archives, the rejection verdict |
| ``viruses`` | the EICAR string (built at test time) and containers for it |
| ``khoso`` | a khoso instance on the harness's services (what the ``khoso`` fixture yields) |
| ``cli`` | the ``khoso`` CLI through Click's runner |
| ``workers`` | worker subprocesses, their environment, waiting for them |
| ``versions`` | new AIP versions as the version tests make and inspect them |
| ``ead_samples`` | valid TT 05 EAD records for every package and kind |
| ``mets`` | deterministic METS writer inputs, a lazy 100,000-document sequence |
| ``pki`` | a test CA, signers, signed PDFs and CMS, a minimal PDF |
| ``audit`` | fake AIPs (catalog rows and stored objects) for the fixity audit |
| ``rebuild`` | the sidecars ingest and audit write; a catalog as comparable rows |
| ``backends`` | storage backends for the contract suite and how to rot a byte |
| ``db`` | a PostgreSQL schema of its own per test |
"""
