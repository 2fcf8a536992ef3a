"""What both scenarios share: the user they log in as, and which of the served document's operations
their requests reached, so a scenario that leaves one out fails."""

import json
from collections.abc import Iterable
from dataclasses import dataclass

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@dataclass
class Account:
    """The user a scenario logs in as."""

    username: str
    password: str


def every_operation(document: bytes) -> set[str]:
    """The operationId of every operation in the document."""
    paths = json.loads(document)["paths"]
    return {item[method]["operationId"] for item in paths.values() for method in METHODS & item.keys()}


def operations_reached(document: bytes, requests: Iterable[tuple[str, str]]) -> set[str]:
    """The operationIds that (method, path) requests reached, literal paths winning over templates
    (so /tasks/changes is not /tasks/{id})."""
    paths = json.loads(document)["paths"]
    templates = sorted(paths, key=lambda template: template.count("{"))
    reached = set()
    for method, path in requests:
        segments = path.split("/")
        for template in templates:
            parts = template.split("/")
            if len(parts) == len(segments) and all(
                part == segment or (part.startswith("{") and segment != "")
                for part, segment in zip(parts, segments, strict=True)
            ):
                if method.lower() in paths[template]:
                    reached.add(paths[template][method.lower()]["operationId"])
                break
    return reached
