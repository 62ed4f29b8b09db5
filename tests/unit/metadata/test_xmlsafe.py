"""Hostile XML is refused with a stable code, before any file or network access."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from preservation.errors import KhosoError
from preservation.metadata.ead import read_ead, validate_xsd
from preservation.metadata.xmlsafe import load_schema, parse_xml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<simpledc><title>&lol9;</title></simpledc>"""


def _code(source: bytes | Path, **kwargs: int) -> str:
    with pytest.raises(KhosoError) as info:
        parse_xml(source, **kwargs)
    return info.value.code


@pytest.fixture
def listener():
    """A local TCP port that records whether anything connected to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.3)
    yield server
    server.close()


def _nobody_connected(server: socket.socket) -> bool:
    try:
        conn, _ = server.accept()
    except TimeoutError:
        return True
    conn.close()
    return False


def test_xxe_file_is_refused_without_reading(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = (
        f'<!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]><simpledc><title>&e;</title></simpledc>'
    ).encode()
    assert _code(doc) == "XML002"
    assert _code(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>') == "XML002"
    with pytest.raises(KhosoError) as info:
        read_ead(doc, "SIP", "hoso")
    assert "TOP-SECRET" not in str(info.value) + info.value.message()


def test_billion_laughs() -> None:
    assert _code(BILLION_LAUGHS) == "XML002"


def test_external_dtd_not_fetched(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    doc = f'<!DOCTYPE simpledc SYSTEM "http://127.0.0.1:{port}/x.dtd"><simpledc/>'.encode()
    assert _code(doc) == "XML002"
    assert _code(b'<!DOCTYPE simpledc SYSTEM "http://evil/x.dtd"><simpledc/>') == "XML002"
    assert _nobody_connected(listener)


def test_external_entity_in_parameter_entity(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    doc = (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p">'
           f"%p;]><r/>").encode()
    assert _code(doc) == "XML002"
    assert _nobody_connected(listener)


def test_oversized(tmp_path: Path) -> None:
    doc = b"<simpledc>" + b"<title>x</title>" * 100 + b"</simpledc>"
    assert _code(doc, max_bytes=100) == "XML003"
    path = tmp_path / "big.xml"
    path.write_bytes(doc)
    assert _code(path, max_bytes=100) == "XML003"
    assert parse_xml(path).tag == "simpledc"


@pytest.mark.parametrize(
    "doc",
    [b"<simpledc><title>x</simpledc>", b"", b"<a>&undefined;</a>", b"<a/><b/>", b"no xml"],
)
def test_malformed(doc: bytes) -> None:
    assert _code(doc) == "XML001"


@pytest.mark.parametrize(
    "doc",
    [
        "<simpledc><title>Tiêu</title></simpledc>".encode("latin-1"),  # Windows-1252 style
        "<simpledc><title>Hồ sơ</title></simpledc>".encode("utf-16"),
        '<?xml version="1.0" encoding="ISO-8859-1"?><simpledc/>'.encode("latin-1"),
        b'<?xml version="1.0" encoding="UTF-16"?><simpledc/>',
        b"<simpledc>\x00</simpledc>",
    ],
)
def test_not_utf8(doc: bytes) -> None:
    assert _code(doc) == "XML004"


def test_good_documents_parse() -> None:
    doc = '\ufeff<?xml version="1.0" encoding="utf-8"?><simpledc><!--c--><title>Hồ sơ</title></simpledc>'
    root = parse_xml(doc.encode())
    assert root.findtext("title") == "Hồ sơ"


def test_validate_xsd_reports_unsafe_input_instead_of_raising() -> None:
    assert validate_xsd(BILLION_LAUGHS, "SIP", "hoso").codes() == {"XML002"}


def test_schema_is_cached() -> None:
    assert load_schema("SIP", "doc") is load_schema("SIP", "doc")
