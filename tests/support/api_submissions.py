"""What the submission API tests share: tokens by role (an agency account bound to its agency),
an app over a test's khoso with settings changed, serialised bags, request bodies that arrive
in chunks or break off, and the text of a PDF."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import pikepdf

from access_api.app import create_app
from access_api.services import build_services
from access_api.services.base import UserRole
from ingest.jobs import run_job
from preservation.accounts import create_user, issue_token
from preservation.catalog import registry
from preservation.catalog.models import Agency
from tests.support.hostile import tar_bag, zip_bag
from tests.support.sips import ORGAN, make_sip

OTHER_ORGAN = "H49.64.34"
ROLES = ("admin", "archivist", "agency_submitter", "preservation_officer", "reader")


def role_value(role: str) -> str:
    """The catalog's role name for a matrix role (the enum, never the string)."""
    return UserRole.AGENCY_SUBMITTER.value if role == "agency_submitter" else UserRole(role).value


def token_for(khoso, username: str, role: str, agency: str | None = None) -> dict[str, str]:
    """An Authorization header for a new user of ``role``, bound to ``agency`` (organ id)."""
    with khoso.catalog.session() as s:
        user = create_user(s, username, "mật-khẩu-dài-đủ-12", [role_value(role)])
        if agency is not None:
            found = s.query(Agency).filter_by(organ_id=agency).one_or_none()
            if found is None:
                found = registry.add_agency(s, agency, f"Cơ quan {agency}")
            user.agency_id = found.id
        token = issue_token(s, user, "test").token
    return {"Authorization": f"Bearer {token}"}


def all_roles(khoso) -> dict[str, dict[str, str]]:
    """A header for each matrix role (the agency submitter bound to the fixture's agency)."""
    heads = {"anonymous": {}}
    for role in ROLES:
        heads[role] = token_for(khoso, f"u-{role}", role,
                                ORGAN if role == "agency_submitter" else None)
    return heads


def client(khoso, **changes):
    settings = dataclasses.replace(khoso.settings, **changes) if changes else khoso.settings
    return create_app(settings, khoso.catalog).test_client()


def zipped_sip(folder: Path, **kwargs) -> Path:
    bag = make_sip(folder, **kwargs)
    return zip_bag(bag, folder / "sip.zip")


def tarred_sip(folder: Path, *, gz: bool = False, **kwargs) -> Path:
    bag = make_sip(folder, **kwargs)
    name = "sip.tar.gz" if gz else "sip.tar"
    return tar_bag(bag, folder / name, mode="w:gz" if gz else "w")


def run_queued(khoso, job_id: str):
    """Run a queued job here, as a worker would (same code, same services)."""
    return run_job(khoso.settings, khoso.catalog, job_id, services=build_services(khoso.settings))


class Chunks(io.RawIOBase):
    """A request body read a chunk at a time from a generator, never whole in memory; when
    ``fail_after`` bytes have gone, the connection "breaks" (``ConnectionResetError``)."""

    def __init__(self, chunks, fail_after: int | None = None) -> None:
        self.chunks, self.fail_after, self.sent = iter(chunks), fail_after, 0
        self.biggest = 0
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self.pending:
            self.pending = next(self.chunks, b"")
        if self.fail_after is not None and self.sent >= self.fail_after:
            raise ConnectionResetError("connection reset by peer")
        data = self.pending[:len(buffer)]
        if self.fail_after is not None:
            data = data[:self.fail_after - self.sent]
        self.pending = self.pending[len(data):]
        buffer[:len(data)] = data
        self.sent += len(data)
        self.biggest = max(self.biggest, len(data))
        return len(data)


def file_chunks(path: Path, size: int = 256 << 10):
    with open(path, "rb") as f:
        while chunk := f.read(size):
            yield chunk


def streamed(path_or_chunks, fail_after: int | None = None) -> dict:
    """Test-client arguments for a chunked body (no Content-Length), as waitress hands it."""
    chunks = file_chunks(path_or_chunks) if isinstance(path_or_chunks, Path) else path_or_chunks
    return {"environ_overrides": {"wsgi.input": Chunks(chunks, fail_after),
                                  "wsgi.input_terminated": True}}


def pdf_text(data: bytes) -> str:
    """The text of a PDF made with embedded TrueType fonts (Identity-H, fpdf2): each shown
    string decoded through its font's ToUnicode map, a line per text object."""
    lines: list[str] = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            maps = {}
            for name, font in page.Resources.Font.items():
                cmap = font.ToUnicode.read_bytes().decode("latin-1")
                maps[name] = {int(src, 16): "".join(chr(int(dst[i:i + 4], 16))
                                                    for i in range(0, len(dst), 4))
                              for src, dst in re.findall(r"<([0-9A-Fa-f]{4})> <([0-9A-Fa-f]+)>",
                                                         cmap)}
            current: dict[int, str] = {}
            for operands, operator in pikepdf.parse_content_stream(page):
                op = str(operator)
                if op == "Tf":
                    current = maps.get(str(operands[0]), {})
                elif op in ("Tj", "TJ"):
                    parts = operands[0] if op == "TJ" else [operands[0]]
                    text = ""
                    for part in parts:
                        if isinstance(part, pikepdf.String):
                            raw = bytes(part)
                            text += "".join(current.get(int.from_bytes(raw[i:i + 2], "big"), "?")
                                            for i in range(0, len(raw), 2))
                    lines.append(text)
    return "\n".join(lines)
