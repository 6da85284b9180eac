"""Reading a model file: JSON or YAML (CloudFormation's short-form tags included), and which format it is."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from harness.errors import BadInput

WORKBENCH, CLOUDFORMATION = "workbench", "cloudformation"


class _TemplateLoader(yaml.SafeLoader):
    """A YAML loader that reads CloudFormation's short forms (!Ref x, !Sub ..., !GetAtt a.b) as their long forms."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict:
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    name = suffix.lstrip("!")
    if name == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Ref": value} if name == "Ref" else {f"Fn::{name}": value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def read_model(path: Path) -> tuple[str, dict]:
    """(format, document) of a model file: a NoSQL Workbench export or a CloudFormation template.

    BadInput (one line) when the file cannot be read, is not JSON (nor YAML, for a file not named .json),
    or is neither format.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read model: {getattr(exc, 'strerror', None) or exc}") from None
    document = _parse(path, text)
    if not isinstance(document, dict):
        raise BadInput(f"{path}: expected a JSON object (a NoSQL Workbench model or a CloudFormation template), found {_kind(document)}")
    if "DataModel" in document:
        return WORKBENCH, document
    if "Resources" in document:
        return CLOUDFORMATION, document
    keys = ", ".join(list(document)[:5]) or "none"
    raise BadInput(f"{path}: not a NoSQL Workbench model (no DataModel) nor a CloudFormation template (no Resources); its keys: {keys}")


def _parse(path: Path, text: str) -> object:
    try:
        return json.loads(text)
    except ValueError as exc:
        if path.suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
            raise BadInput(f"{path}: not JSON: {exc}") from None
    try:
        return yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader with CloudFormation's tags
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise BadInput(f"{path}: {where}not JSON nor YAML: {getattr(exc, 'problem', None) or exc}") from None


def _kind(value: object) -> str:
    return "an empty file" if value is None else f"a {type(value).__name__}"
