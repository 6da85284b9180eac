"""Deterministic item generators, one module per data model; items are in DynamoDB wire format."""

from __future__ import annotations

from types import ModuleType

from harness.datasets import logfile, orders, ring

MODELS = {"orders": orders, "ring": ring, "logfile": logfile}


def model(name: str) -> ModuleType:
    """The dataset module for a model name; ValueError listing the known names when there is none."""
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(sorted(MODELS))
        raise ValueError(f"unknown data model {name!r}; known models: {known}") from None
