"""The local clamd's config: where it writes streams is the operator's choice."""

from __future__ import annotations

from ingest import local_clamd


def test_temporary_directory_defaults_beside_the_config(tmp_path):
    clamd = local_clamd.configure(tmp_path / "clamav", system_db=tmp_path / "none")
    assert f"TemporaryDirectory {tmp_path / 'clamav' / 'tmp'}\n" in clamd.config.read_text()
    assert (tmp_path / "clamav" / "tmp").is_dir()


def test_temporary_directory_can_be_a_tmpfs(tmp_path):
    shm = tmp_path / "shm" / "clamd"
    clamd = local_clamd.configure(tmp_path / "clamav", system_db=tmp_path / "none", tmpdir=shm)
    text = clamd.config.read_text()
    assert f"TemporaryDirectory {shm}\n" in text and "AlertExceedsMax yes" in text
    assert shm.is_dir()
