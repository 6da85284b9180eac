"""The CLI surface: every command has help text and is documented in the README."""

from __future__ import annotations

from click.testing import CliRunner

from conftest import REPO
from harness.cli import main


def all_commands(group, prefix=()):
    for name, command in group.commands.items():
        path = prefix + (name,)
        if hasattr(command, "commands"):
            yield from all_commands(command, path)
        else:
            yield path, command


def test_every_command_has_help_and_is_in_the_readme():
    readme = (REPO / "README.md").read_text()
    commands = list(all_commands(main))
    assert {" ".join(path) for path, _ in commands} >= {"run", "setup", "validate", "teardown", "local install", "local start"}
    for path, command in commands:
        assert command.help and command.help.strip(), path
        assert f"ddb-harness {' '.join(path)}" in readme, path
        result = CliRunner().invoke(main, [*path, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output


def test_readme_opens_with_the_two_commands():
    lines = (REPO / "README.md").read_text().split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert [line.split("#")[0].strip() for line in lines] == ["make demo", "make test"]


def test_teardown_refuses_the_embedded_target():
    result = CliRunner().invoke(main, ["teardown", str(REPO / "scenarios" / "roundtrip.yaml")])
    assert result.exit_code == 1
    assert "--endpoint-url" in result.output
