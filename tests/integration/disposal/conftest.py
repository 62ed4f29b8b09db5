"""A khoso with two filesystem locations and one S3 location (moto), four hồ sơ ingested
(one permanent, two expired, one duplicate), staff accounts, and a trusted test CA for the
signed decision."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives import serialization as ser

from access_api.app import create_app
from access_api.services import build_services
from preservation.accounts import create_user, issue_token
from preservation.settings import StorageLocation
from tests.support.pki import make_root, make_signer, minimal_pdf, sign_pdf
from tests.support.sheets import FILE_CODE
from tests.support.sips import make_sip

EXPIRED, DUPLICATE, HELD = "H49.64.33.2001.170", "H49.64.33.2024.171", "H49.64.33.2001.172"
PERMANENT = FILE_CODE
USERS = {"luu-tru": ["archivist"], "quan-tri-1": ["admin"], "quan-tri-2": ["admin"],
         "hd-1": ["archivist"], "hd-2": ["preservation_officer"], "doc-gia": ["reader"]}


@dataclass
class World:
    khoso: Any
    client: Any
    tokens: dict[str, str]
    bucket: str
    s3: Any
    ca: Any
    ca_key: Any

    def as_(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def signed_decision(self, text: str = "Quyet dinh huy tai lieu") -> bytes:
        cert, key = make_signer("Giám đốc Sở Nội vụ", self.ca, self.ca_key)
        return sign_pdf(minimal_pdf(text), cert, key, self.ca)

    def every_key(self) -> dict[str, list[str]]:
        from access_api.services.base import build_storages

        return {name: list(st.list("")) for name, st in
                build_storages(self.khoso.settings).items()}


def s3_location(s3_endpoint: str, *, lock: bool = False) -> tuple[StorageLocation, str, Any]:
    bucket = f"khoso-des-{uuid.uuid4().hex[:10]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket, **({"ObjectLockEnabledForBucket": True} if lock else {}))
    return (StorageLocation("offsite", f"s3://{bucket}",
                            {"endpoint": s3_endpoint, "region": "us-east-1"}), bucket, client)


@pytest.fixture
def world(khoso, s3_endpoint, tmp_path, monkeypatch) -> World:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    location, bucket, client = s3_location(s3_endpoint, lock=True)
    khoso.settings = dataclasses.replace(khoso.settings, storage_locations=(
        khoso.settings.location("replica1"), khoso.settings.location("replica2"), location))
    services = build_services(khoso.settings)
    sips = [("p", {}), ("e", {"fileCode": EXPIRED, "maintenance": "06"}),
            ("d", {"fileCode": DUPLICATE, "maintenance": "06", "startDate": "01/01/2024",
                   "endDate": "31/12/2024"}),
            ("h", {"fileCode": HELD, "maintenance": "06"})]
    for folder, hoso in sips:
        outcome = khoso.ingest(make_sip(tmp_path / folder, hoso=hoso or None), services=services)
        assert outcome.accepted, outcome.report.to_dict()
    ca, ca_key = make_root("Khoso Test Root")
    trust = Path(khoso.settings.trust_dir)
    trust.mkdir(parents=True, exist_ok=True)
    (trust / "root.pem").write_bytes(ca.public_bytes(ser.Encoding.PEM))
    tokens = {}
    with khoso.catalog.session() as s:
        for name, roles in USERS.items():
            user = create_user(s, name, "Mật-khẩu-đủ-dài-2026", roles)
            tokens[name] = issue_token(s, user, "test").token
    app = create_app(khoso.settings, khoso.catalog)
    return World(khoso, app.test_client(), tokens, bucket, client, ca, ca_key)
