"""Archival packages: new versions."""

from __future__ import annotations

from pathlib import Path

import click

from access_api.cli.base import Context, main
from preservation import signing
from preservation.errors import KhosoError, ValidationFailed


@main.group()
def aip() -> None:
    """Gói lưu trữ (AIP) / archival packages."""


@aip.command("update-metadata")
@click.argument("objid")
@click.option("--ead", "ead_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="EAD hồ sơ đã sửa / corrected package EAD.xml.")
@click.option("--doc", "docs", multiple=True, metavar="NAME=FILE",
              help="EAD tài liệu đã sửa, e.g. EAD_doc_a.xml=./fixed.xml (lặp lại / repeatable).")
@click.option("--reason", required=True, help="Lý do sửa / reason for the change.")
@click.pass_obj
def aip_update_metadata(obj: Context, objid: str, ead_file: Path | None, docs: tuple[str, ...],
                        reason: str) -> None:
    """Tạo phiên bản AIP mới chỉ chứa siêu dữ liệu đã sửa / new AIP version for corrected
    metadata (content files are never rewritten; older versions stay readable)."""
    from access_api.services import build_storages
    from ingest.versions import new_metadata_version
    from preservation.events import REPLICATION, Event, Outcome
    from storage.errors import StorageError
    from storage.replication import replicate
    from storage.sidecar import append_events_everywhere, event_record

    s = obj.settings
    storages = list(build_storages(s).values())

    def read(key: str) -> bytes:
        last: KhosoError | None = None
        for storage in storages:
            try:
                with storage.open(key) as f:
                    return f.read()
            except StorageError as exc:
                last = exc
        raise last or KhosoError("VER009", key, version="?", reason="no location")

    document_eads = {}
    for item in docs:
        name, sep, file = item.partition("=")
        if not sep or not Path(file).is_file():
            raise click.BadParameter(f"{item!r}: NAME=FILE", param_hint="--doc")
        document_eads[name] = Path(file).read_bytes()
    catalog = obj.catalog()
    outcome = new_metadata_version(
        s, catalog, objid=objid, package_ead=ead_file.read_bytes() if ead_file else None,
        document_eads=document_eads, reason=reason, actor="cli",
        replicate=lambda objects, progress=None: replicate(objects, storages, progress=progress),
        signer=signing.load_signer(Path(s.keys_dir)), read=read)
    if not outcome.accepted:
        raise ValidationFailed(outcome.report, "VER010")
    assert outcome.key_prefix is not None  # accepted: written under it
    from preservation.catalog.models import Package
    from storage.sidecar import iso

    with catalog.session() as session:  # the registration time, for a rebuild to keep it
        created = session.get_one(Package, outcome.package_id).created_at
    records = [{**event_record(Event(REPLICATION, Outcome.SUCCESS, f"key={outcome.key_prefix}",
                                     object_identifier=objid), objid=objid, link_copy=False,
                               copy={"location": st.name, "key": outcome.key_prefix}),
                "package_created_at": iso(created)}
               for st in storages]
    append_events_everywhere(storages, outcome.key_prefix, records)
    from access_api.services import mirror_log

    mirror_log(s, catalog, storages)
    click.echo(f"{objid} v{outcome.version}: {outcome.key_prefix} "
               f"({len(outcome.written)} tệp / files)")
