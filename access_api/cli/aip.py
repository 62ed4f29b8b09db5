"""Archival packages: new versions."""

from __future__ import annotations

from pathlib import Path

import click

from access_api.cli.base import Context, main
from access_api.services import versions


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
    document_eads = {}
    for item in docs:
        name, sep, file = item.partition("=")
        if not sep or not Path(file).is_file():
            raise click.BadParameter(f"{item!r}: NAME=FILE", param_hint="--doc")
        document_eads[name] = Path(file).read_bytes()
    outcome = versions.update_metadata(
        obj.services, obj.identity, objid,
        package_ead=ead_file.read_bytes() if ead_file else None,
        document_eads=document_eads, reason=reason)
    click.echo(f"{objid} v{outcome.version}: {outcome.key_prefix} "
               f"({len(outcome.written)} tệp / files)")
