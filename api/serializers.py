"""Strict input: JSON types as declared, unknown fields named in the 400."""

import unicodedata
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.utils import html

# What str.strip() removes, so what a trimming CharField drops around a value (str.isspace()).
WHITESPACE = set("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {
    chr(code) for code in range(0x2000, 0x200B)
}
# Unicode's control characters (category Cc); none lies beyond U+00FF.
CONTROL_CHARACTERS = {chr(code) for code in range(0x100) if unicodedata.category(chr(code)) == "Cc"}


def reject_control_characters(value: str) -> None:
    """Tab is the only control character allowed."""
    if any(char in CONTROL_CHARACTERS and char != "\t" for char in value):
        raise serializers.ValidationError("Control characters other than tab are not allowed.")


class StrictCharField(serializers.CharField):
    """A string, never a number turned into one."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false; HTML forms keep their usual checkbox values."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool) and not html.is_html_input(self.root.initial_data):
            self.fail("invalid", input=data)
        return super().to_internal_value(data)


class RejectUnknownFieldsMixin:
    """Unknown body fields are a 400 naming them; read-only fields are ignored."""

    ignored_form_fields = {"csrfmiddlewaretoken"}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = set(self.fields) | self.ignored_form_fields  # type: ignore[attr-defined]
            unknown = sorted(set(data) - known)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)  # type: ignore[misc]
