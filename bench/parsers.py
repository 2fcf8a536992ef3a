"""Parse time of the API's JSON parser against DRF's, per body: `python bench/parsers.py`.

Best of several runs, so a busy machine inflates the figures less.
"""

import contextlib
import io
import json
import os
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from rest_framework.parsers import JSONParser  # noqa: E402

from api.parsers import StrictJSONParser  # noqa: E402

BODIES = {
    "typical create": b'{"title": "Buy milk and eggs on the way home", "done": false}',
    "typical login": b'{"username": "alice", "password": "correct horse battery staple"}',
    "1 MB title": json.dumps({"title": "x" * 1_000_000}).encode(),
    "1 MB title of escapes": json.dumps({"title": '"\\' * 300_000}).encode(),
    "5,000 keys": json.dumps({f"k{i}": i for i in range(5_000)}).encode(),
    "20,000 levels deep": b"[" * 20_000 + b"]" * 20_000,
}


def best_time(parser: JSONParser, body: bytes) -> float:
    def parse() -> None:
        # DRF's parser fails on deep nesting (RecursionError); time it all the same.
        with contextlib.suppress(Exception):
            parser.parse(io.BytesIO(body), "application/json", {"encoding": "utf-8"})

    number = max(1, int(20_000 / max(1, len(body) // 64)))
    return min(timeit.repeat(parse, number=number, repeat=5)) / number


print(f"{'body':24} {'DRF JSONParser':>16} {'StrictJSONParser':>18}")
for name, body in BODIES.items():
    drf, strict = best_time(JSONParser(), body), best_time(StrictJSONParser(), body)
    print(f"{name:24} {drf * 1e6:13.1f} us {strict * 1e6:15.1f} us")
