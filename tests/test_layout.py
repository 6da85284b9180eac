"""The house holds: harness/ keeps its rooms, packages say what they may import, nothing private crosses modules."""

from __future__ import annotations

import ast
from pathlib import Path

import harness

PACKAGE = Path(harness.__file__).parent
# The face, the scenario model and the leaves everything shares; every other module lives in a package.
ROOT_MODULES = {"__init__.py", "cli.py", "errors.py", "durations.py", "redact.py"}
ROOT_PACKAGES = {"scenario", "run", "target", "safety", "workload", "ops", "datasets", "fastpath", "gate", "metrics", "report", "wire", "modeling"}


def test_the_root_holds_only_the_face_the_scenario_and_shared_leaves():
    modules = {path.name for path in PACKAGE.glob("*.py")}
    packages = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()}
    assert modules == ROOT_MODULES
    assert packages == ROOT_PACKAGES


def test_every_package_says_what_it_is_for_and_what_it_may_import():
    for name in sorted(ROOT_PACKAGES):
        doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text()))
        assert doc, f"harness.{name} has no docstring"
        assert "import" in doc.lower(), f"harness.{name}'s docstring does not say what it may import"


def private_imports(path: Path) -> list[str]:
    """`from harness.x import _name` and `module._name` on an imported harness module, with their line."""
    tree = ast.parse(path.read_text())
    found, harness_modules = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("harness"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path}:{node.lineno}: imports {node.module}.{alias.name}")
                harness_modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in harness_modules:
            if node.attr.startswith("_") and not node.attr.startswith("__"):
                found.append(f"{path}:{node.lineno}: uses {node.value.id}.{node.attr}")
    return found


def test_no_private_name_is_imported_across_modules():
    found = [line for path in sorted(PACKAGE.rglob("*.py")) for line in private_imports(path)]
    assert found == []
