"""Strict input: JSON types as declared, unknown fields named in the 400."""

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.utils import html


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
