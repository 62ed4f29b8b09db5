"""TT 05 package structure: METS and PREMIS writers and readers, their schemas, and the AIP's
on-storage format (:mod:`.aip`: key layout, BagIt tag files).

Writers stream (``lxml.etree.xmlfile``): a package may hold 100,000+ files and a METS built in
memory is what made other repositories fail at 200,000. Readers use ``iterparse`` with the same
safety rules as :mod:`preservation.metadata.xmlsafe` (no DOCTYPE, no entities, no network).
Pure: no I/O beyond the streams and paths given, no global state but cached schemas.
"""
