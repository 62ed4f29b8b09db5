"""The domain core of khoso: records model, national metadata, catalog, settings, errors.

Rule: this package does no HTTP and imports nothing from ``ingest``, ``storage`` or
``access_api``; it does no work at import time and keeps no global state. Settings are
built once by the caller and passed down.
"""

__version__ = "0.1.0"
