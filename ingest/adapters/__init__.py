"""Adapters to outside tools: clamd (virus check), siegfried/fido (format identification), pyHanko
(signature verification). Each returns typed frozen results and never lets a tool failure pass
as success; fakes with the same interfaces live in ``ingest.adapters.fakes``.
"""

from ingest.adapters.clamd import (
    ClamdScanner,
    EngineVersion,
    ScanResult,
    ScanSession,
    ScanStatus,
    VirusScanner,
)
from ingest.adapters.format_policy import FormatPolicy, FormatRule
from ingest.adapters.formats import (
    FidoIdentifier,
    FormatIdentification,
    FormatIdentifier,
    PygfriedIdentifier,
    make_identifier,
)
from ingest.adapters.signatures import (
    DetachedCmsVerifier,
    PdfSignatureVerifier,
    SignatureCheck,
    SignatureVerification,
    SignatureVerifier,
    load_trust_roots,
)

__all__ = [
    "ClamdScanner", "DetachedCmsVerifier", "EngineVersion", "FidoIdentifier", "FormatIdentification",
    "FormatIdentifier", "FormatPolicy", "FormatRule", "PdfSignatureVerifier", "PygfriedIdentifier",
    "ScanResult", "ScanSession", "ScanStatus", "SignatureCheck", "SignatureVerification",
    "SignatureVerifier", "VirusScanner", "load_trust_roots", "make_identifier",
]
