"""The composition root: real adapters and storage locations built from settings.

``ingest`` does not import ``storage`` (imports run access_api → ingest, storage → preservation);
it receives the replicas to write through ``Services.replicate``, wired here.
"""

from __future__ import annotations

from pathlib import Path

from ingest.adapters.clamd import ClamdScanner
from ingest.adapters.format_policy import FormatPolicy
from ingest.adapters.formats import make_identifier
from ingest.adapters.signatures import DetachedCmsVerifier, PdfSignatureVerifier, load_trust_roots
from ingest.context import Services
from preservation.settings import Settings
from preservation.signing import load_signer
from storage.locations import open_storage
from storage.protocol import Storage
from storage.replication import replicate


def build_storages(settings: Settings) -> dict[str, Storage]:
    return {loc.name: open_storage(loc) for loc in settings.storage_locations}


def build_services(settings: Settings) -> Services:
    trust_dir = Path(settings.trust_dir)
    roots = load_trust_roots(trust_dir) if trust_dir.is_dir() else []
    storages = [open_storage(loc) for loc in settings.storage_locations]
    return Services(
        scanner=ClamdScanner(settings.clamd, timeout=settings.clamd_timeout),
        identifier=make_identifier(settings.format_identifier),
        policy=FormatPolicy.load(),
        pdf_verifier=PdfSignatureVerifier(roots),
        cms_verifier=DetachedCmsVerifier(roots),
        replicate=lambda objects, progress=None: replicate(objects, storages, progress=progress),
        signer=load_signer(Path(settings.keys_dir)),
        reject_not_scanned=settings.reject_not_scanned,
    )
