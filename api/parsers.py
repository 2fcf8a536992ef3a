"""The JSON request parser: strict, bounded and fast.

DRF's JSONParser hands the body to the standard library's recursive
decoder, so a body nested ~1,000 levels deep (a few kilobytes) raised
RecursionError: a 500. orjson parses in Rust without the Python stack and
stops at 1,024 levels; the result is then walked without recursion and
refused beyond MAX_DEPTH, far below Python's recursion limit (1,000), so
nothing downstream (serializers, logging, repr) can recurse out of stack.
"""

import json
from collections.abc import Iterable
from typing import Any

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Every body of the contract is a flat object (depth 1); a wrong-typed value
# adds a level or two and gets a validation error naming the field. Nothing
# valid comes near this.
MAX_DEPTH = 32

UTF8_BOM = b"\xef\xbb\xbf"


class NestedTooDeeply(ParseError):
    default_detail = f"The JSON body is nested more than {MAX_DEPTH} levels deep."


class StrictJSONParser(JSONParser):
    """RFC 8259 JSON, at most MAX_DEPTH levels deep, each object's keys unique.

    Rejected with a 400: malformed JSON, NaN and Infinity, numbers beyond a
    double's range, lone surrogates, invalid UTF-8, deep nesting, duplicate
    keys. A leading UTF-8 byte order mark is ignored (RFC 8259 §8.1 allows it);
    a `charset` other than UTF-8 is decoded first, as DRF's parser does.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        raw = _utf8_body(stream.read(), encoding)
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if str(exc).startswith("depth limit exceeded"):
                raise NestedTooDeeply from None
            raise ParseError(f"JSON parse error - {exc}") from None
        keys = _count_keys_within_depth(data)
        # orjson keeps the last of repeated keys; a client that sent two
        # titles meant something this API cannot guess.
        if keys and keys != _keys_written(raw):
            raise ParseError(f'The JSON body has the key "{_first_duplicate_key(raw)}" twice in one object.')
        return data


def _utf8_body(body: bytes, encoding: str) -> bytes:
    if encoding.lower().replace("-", "").replace("_", "") not in {"utf8", "utf8sig"}:
        try:
            # str.encode() knows only text encodings: no rot13, base64 or zlib
            # (a bytes codec could inflate a body past the size limit).
            "".encode(encoding)
        except LookupError:
            raise ParseError(f'Unsupported charset "{encoding}" in the Content-Type header.') from None
        try:
            body = body.decode(encoding).encode()
        except (UnicodeDecodeError, UnicodeEncodeError) as exc:
            raise ParseError(f"The body is not valid {encoding}: {exc.reason}.") from None
    return body.removeprefix(UTF8_BOM)


def _count_keys_within_depth(data: Any) -> int:
    """The number of object keys in `data`; NestedTooDeeply beyond MAX_DEPTH levels."""
    keys = 0
    level, depth = [data] if isinstance(data, (dict, list)) else [], 1
    while level:
        if depth > MAX_DEPTH:
            raise NestedTooDeeply
        below: list[Any] = []
        for value in level:
            children: Iterable[Any] = value
            if isinstance(value, dict):
                keys += len(value)
                children = value.values()
            for child in children:
                if isinstance(child, (dict, list)):
                    below.append(child)
        level, depth = below, depth + 1
    return keys


def _keys_written(raw: bytes) -> int:
    """How many keys the valid JSON text `raw` writes, counting repeats, at C speed.

    With escaped backslashes and quotes removed, every quote left opens or
    closes a string; emptying the strings leaves the structure, where a key
    is an empty string followed by a colon.
    """
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = b'""'.join(raw.split(b'"')[::2])
    return structure.translate(None, b" \t\r\n").count(b'"":')


def _first_duplicate_key(raw: bytes) -> str:
    # Only reached when a key repeats; the body is valid JSON of bounded
    # depth by now, so the standard library's recursive decoder is safe.
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for name, _ in items:
            if name in seen:
                raise DuplicateKey(name)
            seen.add(name)
        return dict(items)

    try:
        json.loads(raw, object_pairs_hook=pairs)
    except DuplicateKey as found:
        return str(found)
    return ""


class DuplicateKey(Exception):
    pass
