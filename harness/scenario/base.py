"""The base every scenario section is built on: frozen, strictly typed, unknown keys rejected."""

from __future__ import annotations

from pydantic import BaseModel, BeforeValidator, ConfigDict


def _list_to_tuple(value: object) -> object:
    """YAML gives lists; frozen scenario objects keep tuples."""
    return tuple(value) if isinstance(value, list) else value


FromList = BeforeValidator(_list_to_tuple)


class Spec(BaseModel):
    """Base of every scenario section: frozen, strict types, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
