"""A rebuilt bitstream's format comes from the PREMIS object (data), not an event's text."""

from __future__ import annotations

from preservation.packaging.model import mime_for
from storage.rebuild import _object_format


def test_the_pronom_key_and_name_are_read_from_the_object():
    obj = {"puid": "fmt/276", "format_name": "Acrobat PDF 1.7 - Portable Document Format"}
    assert _object_format(obj, "representations/rep1/data/a.pdf") == (
        "fmt/276", "Acrobat PDF 1.7 - Portable Document Format")


def test_the_mime_type_the_writer_put_for_an_unnamed_format_is_no_name():
    rel = "representations/rep1/data/notes.txt"
    assert _object_format({"puid": None, "format_name": mime_for(rel)}, rel) == (None, None)
    assert _object_format({"puid": "x-fmt/111", "format_name": mime_for(rel)}, rel) == (
        "x-fmt/111", None)
    assert _object_format({"puid": "", "format_name": None}, rel) == (None, None)
