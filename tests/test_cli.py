"""The CLI surface: every command has help text and is documented in the README."""

from __future__ import annotations

import pytest
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


def test_workers_alone_means_one_per_core_and_a_bad_count_is_refused(monkeypatch, tmp_path):
    import os

    from harness.run import runner

    seen = []
    monkeypatch.setattr(runner, "run", lambda path, spec, options: (seen.append(options.workers), (0, tmp_path))[1])
    scenario = str(REPO / "scenarios" / "roundtrip.yaml")
    for flags in (["--workers"], ["--workers", "auto"], ["--workers", "3"], []):
        result = CliRunner().invoke(main, ["run", scenario, *flags, "-t", "5s"])
        assert result.exit_code == 0, (flags, result.output)
    assert seen == [os.cpu_count(), os.cpu_count(), 3, 0]
    refused = CliRunner().invoke(main, ["run", scenario, "--workers", "0"])
    assert refused.exit_code == 2 and "expected a number of worker processes" in refused.output


def test_capacity_gate_needs_an_endpoint_that_is_a_gate(monkeypatch, endpoint):
    from harness.run import runner

    monkeypatch.setattr(runner, "run", lambda path, spec, options: pytest.fail("must not run"))
    scenario = str(REPO / "scenarios" / "roundtrip.yaml")
    alone = CliRunner().invoke(main, ["run", scenario, "--capacity-gate"])
    assert alone.exit_code == 2 and "--capacity-gate needs the gate's address" in alone.output
    not_a_gate = CliRunner().invoke(main, ["run", scenario, "--capacity-gate", "--endpoint-url", endpoint])  # DynamoDB Local itself
    assert not_a_gate.exit_code == 2, not_a_gate.output
    assert f"{endpoint} is not a reachable capacity gate" in not_a_gate.output
