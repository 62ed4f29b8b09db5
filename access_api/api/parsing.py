"""How every endpoint reads its JSON body and its query string: strictly, with a code.

APIFlask has one webargs parser; this module gives it our reading rules (``install``):

- a JSON body is JSON (RFC 8259): UTF-8, no ``NaN``/``Infinity``, no member name given twice
  in one object (parsers disagree on which one wins, so neither is guessed: ``API202``), no
  number of more digits than Python converts, nested at most ``MAX_DEPTH`` deep; anything
  else is 400 ``API201`` naming what and where, never a 500 (Python's own parser overflows
  its stack on ``[[[[…`` and refuses 4,300-digit integers with an exception);
- a body sent to a JSON endpoint under another ``Content-Type`` is 415 ``API005`` (webargs
  would read it as no body at all and answer "missing field");
- a JSON body is at most ``JSON_BODY_LIMIT`` bytes where the blueprint set no smaller limit:
  the app-wide limit is the one of bag uploads (``KHOSO_MAX_UPLOAD_BYTES``, 64 GiB), and a
  JSON body is read into memory, so an anonymous ``POST /auth/login`` could otherwise make
  the server hold gigabytes;
- a query parameter that takes one value and is given several (``mode=01&mode=03``) is
  refused (422 ``API001``/``API008``), as an unknown one is: the first must not silently win.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

import marshmallow as ma
from apiflask.schema_adapters.marshmallow import FlaskParser, parser
from flask import Request, current_app, g
from webargs import core
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from access_api.services.body_limits import BodyKind
from preservation.errors import KhosoError
from preservation.issues import Text

MAX_DEPTH = 64
JSON_BODY_LIMIT = 1 << 20  # 1 MiB: the largest JSON body of an endpoint without its own limit


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _object(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey(key)
        out[key] = value
    return out


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 reads as infinity: no JSON number means that
        raise ValueError(f"{text[:40]} is out of range")
    return value


def _too_deep(value: Any) -> bool:
    """Whether ``value`` nests arrays and objects deeper than ``MAX_DEPTH`` (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _bad(vi: str, en: str) -> KhosoError:
    return KhosoError("API201", "", problem=Text(vi, en))


def parse_json_body(data: bytes) -> Any:
    """The JSON value of a request body; ``KhosoError`` API201/API202 (400) for anything that
    is not one JSON text as RFC 8259 defines it."""
    if data.startswith(b"\xef\xbb\xbf"):  # RFC 8259 §8.1: a parser may ignore a BOM
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(f"không phải UTF-8 (byte {exc.start})",
                   f"not UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_constant,
                           parse_float=_float)
    except DuplicateKey as exc:
        raise KhosoError("API202", "", key=exc.key[:100]) from None
    except RecursionError:
        value = None
        deep = True
    except json.JSONDecodeError as exc:
        raise _bad(f"không đọc được ở dòng {exc.lineno}, cột {exc.colno} "
                   f"(chi tiết kỹ thuật: {exc.msg})",
                   f"{exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:  # NaN/Infinity, 1e999, an integer of more than 4,300 digits
        reason = str(exc).split(";")[0][:120]
        raise _bad(f"có một giá trị JSON không nhận được (chi tiết kỹ thuật: {reason})",
                   f"value not accepted: {reason}") from None
    else:
        deep = _too_deep(value)
    if deep:
        raise _bad(f"mảng và đối tượng lồng nhau quá {MAX_DEPTH} tầng",
                   f"arrays and objects nested more than {MAX_DEPTH} deep")
    return value


def _limit(req: Request) -> int | None:
    """The body limit of this JSON request: the blueprint's, or ``JSON_BODY_LIMIT`` where
    the request still has the app-wide (upload) limit."""
    g.body_kind = BodyKind.JSON  # a 413 here names this limit, not the upload setting
    limit = req.max_content_length
    if limit is None or limit == current_app.config.get("MAX_CONTENT_LENGTH"):
        limit = min(limit or JSON_BODY_LIMIT, JSON_BODY_LIMIT)
        req.max_content_length = limit
    return limit


class StrictParser(FlaskParser):
    """APIFlask's parser with the rules above."""

    def _raw_load_json(self, req: Request) -> Any:
        limit = _limit(req)
        if req.content_length is not None and limit is not None and req.content_length > limit:
            raise RequestEntityTooLarge()
        data = req.get_data(cache=True)
        if not data:
            return core.missing
        if not core.is_json(req.mimetype):
            raise UnsupportedMediaType()
        if limit is not None and len(data) > limit:
            raise RequestEntityTooLarge()
        return parse_json_body(data)

    def load_querystring(self, req: Request, schema: ma.Schema) -> Any:
        proxy = super().load_querystring(req, schema)
        known = {f.data_key or name for name, f in schema.fields.items()}
        repeated = {name: [f"given {len(values)} times; this parameter takes one value"]
                    for name, values in req.args.lists()
                    if len(values) > 1 and name in known and name not in proxy.multiple_keys}
        if repeated:
            raise ma.ValidationError(repeated)
        return proxy


def install() -> None:
    """Make APIFlask's one parser read as above (it is created at APIFlask's import)."""
    parser.__class__ = StrictParser
