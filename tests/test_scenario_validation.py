"""Scenario validation: every bad file is one line naming the file and field, never a traceback.

tests/bad_scenarios/ holds one malformed scenario per file, each with ONE thing wrong and a first
line `# expect: <text the error must contain>`. No DynamoDB server is needed here.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO, SCENARIOS, scenario_data, write_scenario
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from harness.cli import main
from harness.errors import BadInput
from harness.run import runner
from harness.scenario import LoadSpec, LocalTarget, Scenario, load_scenario, parse_scenario, step_shards

BAD_SCENARIOS = sorted((Path(__file__).parent / "bad_scenarios").glob("*.yaml"))
SHIPPED = sorted(SCENARIOS.glob("*.yaml"))
EXPECT = "# expect: "


def expected_text(path: Path) -> str:
    """The `# expect:` substring on a corpus file's first line (read as bytes: one file is not UTF-8)."""
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8")
    assert first.startswith(EXPECT), f"{path.name}: first line must be '{EXPECT}<substring>'"
    return first.removeprefix(EXPECT).strip()


def cli_runner() -> CliRunner:
    """A runner that keeps stderr apart from stdout (click < 8.2 needs mix_stderr=False, 8.2+ always does)."""
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def invoke(*args: object):
    """Run the real CLI entry point in-process."""
    return cli_runner().invoke(main, [str(arg) for arg in args])


def assert_one_error_line(stderr: str, path: Path, expected: str = "") -> str:
    """stderr is exactly `Error: <path>: ...` on one line, containing `expected`, with no traceback."""
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line, got {len(lines)}:\n{stderr}"
    line = lines[0]
    assert line.startswith(f"Error: {path}:"), line
    assert expected in line, f"{expected!r} not in {line!r}"
    assert "Traceback" not in stderr
    return line


def test_the_corpus_is_large_and_well_formed():
    assert len(BAD_SCENARIOS) >= 25
    for path in BAD_SCENARIOS:
        assert expected_text(path)


@pytest.mark.parametrize("path", BAD_SCENARIOS, ids=lambda path: path.stem)
def test_validate_rejects_bad_scenario_with_one_line(path):
    result = invoke("validate", path)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a caught crash
    assert result.stdout == ""
    assert_one_error_line(result.stderr, path, expected_text(path))


@pytest.mark.parametrize("name", ["yaml_unclosed_bracket", "not_utf8", "unknown_key_with_line_break"])
def test_no_traceback_reaches_a_real_terminal(name):
    path = Path(__file__).parent / "bad_scenarios" / f"{name}.yaml"
    command = [sys.executable, "-m", "harness.cli", "validate", str(path)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert_one_error_line(done.stderr, path, expected_text(path))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_shipped_scenario_validates(path):
    result = invoke("validate", path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{path}: ok\n"
    assert result.stderr == ""


def test_validate_reports_each_file_and_fails_if_any_is_bad():
    good, bad = SCENARIOS / "roundtrip.yaml", BAD_SCENARIOS[0]
    result = invoke("validate", good, bad)
    assert result.exit_code == 2
    assert result.stdout == f"{good}: ok\n"
    assert_one_error_line(result.stderr, bad, expected_text(bad))


def test_missing_file_is_bad_input(tmp_path):
    path = tmp_path / "nowhere.yaml"
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, path, "cannot read scenario")


def test_a_folder_is_bad_input(tmp_path):
    result = invoke("validate", tmp_path)
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, tmp_path, "cannot read scenario")


@pytest.fixture
def no_runs(monkeypatch):
    """Fail the test if a command gets as far as starting a run (server, tables, Locust)."""
    started = []
    monkeypatch.setattr(runner, "run", lambda *args, **kwargs: started.append(args) or pytest.fail("a run started"))
    return started


@pytest.mark.parametrize("name", ["target_unknown_kind", "walk_ring_not_a_ring", "yaml_bad_indentation"])
def test_run_with_bad_scenario_never_starts(tmp_path, no_runs, name):
    path = Path(__file__).parent / "bad_scenarios" / f"{name}.yaml"
    results = tmp_path / "r"
    result = invoke("run", path, "--results-dir", results)
    assert result.exit_code == 2, result.output
    assert_one_error_line(result.stderr, path, expected_text(path))
    assert not results.exists()
    assert no_runs == []


def test_run_with_missing_file_is_bad_input(tmp_path, no_runs):
    path, results = tmp_path / "nowhere.yaml", tmp_path / "r"
    result = invoke("run", path, "--results-dir", results)
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, path, "cannot read scenario")
    assert not results.exists()


@pytest.mark.parametrize(
    "flag, value",
    [("--users", "0"), ("--users", "ten"), ("--run-time", "soon"), ("--run-time", "0s"), ("--spawn-rate", "0")],
)
def test_run_rejects_bad_flags(tmp_path, no_runs, flag, value):
    results = tmp_path / "r"
    result = invoke("run", SCENARIOS / "roundtrip.yaml", flag, value, "--results-dir", results)
    assert result.exit_code == 2, result.output
    error = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and flag in error[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not results.exists()


# ---- the positive path --------------------------------------------------------------------


def minimal(tmp_path: Path, **sections) -> Path:
    """A scenario file with only the required sections (one ring table), plus `sections`."""
    data = {
        "tables": [{"name": "ring-table", "attributes": {"primary_key": "S"}, "key": {"hash": "primary_key"}, "dataset": {"model": "ring"}}],
        "workload": {"mix": [{"task": "walk_ring", "table": "ring-table"}]},
        **sections,
    }
    return write_scenario(tmp_path, data, "minimal.yaml")


def test_defaults(tmp_path):
    scenario = load_scenario(minimal(tmp_path))
    assert scenario.name == "minimal"  # from the file name
    assert scenario.target == LocalTarget()
    assert (scenario.target.kind, scenario.target.region) == ("local", "us-east-1")
    assert (scenario.client.retries.mode, scenario.client.retries.max_attempts) == ("standard", 3)
    table = scenario.tables[0]
    assert (table.billing_mode, table.capacity, table.recreate, table.gsis) == ("PAY_PER_REQUEST", None, False, ())
    assert (table.dataset.size, table.dataset.load) == (200, "auto")
    step = scenario.workload.mix[0]
    assert (step.weight, step.step_name, step.steps) == (1, "walk_ring", None)
    assert (scenario.load.users, scenario.load.run_seconds, scenario.load.wait_time.constant) == (10, 30, 0.0)


def test_relative_dataset_source_is_resolved_against_the_scenario_folder(tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    data = scenario_data("logfile_parallel_scan.yaml")
    data["tables"][0]["dataset"]["source"] = "../data/logfile.csv"
    scenario = load_scenario(write_scenario(folder, data))
    assert scenario.tables[0].dataset.source == str((tmp_path / "data" / "logfile.csv").resolve())


def test_absolute_dataset_source_is_kept(tmp_path):
    data = scenario_data("logfile_parallel_scan.yaml")
    data["tables"][0]["dataset"]["source"] = str(tmp_path / "logfile.csv")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    scenario = load_scenario(write_scenario(elsewhere, data))
    assert scenario.tables[0].dataset.source == str((tmp_path / "logfile.csv").resolve())


def test_step_shards_default_comes_from_the_dataset(tmp_path):
    scenario = load_scenario(SCENARIOS / "logfile_sharded_gsi.yaml")
    assert [step_shards(scenario, step) for step in scenario.workload.mix] == [10, 10]
    data = scenario_data("logfile_sharded_gsi.yaml")
    data["tables"][0]["dataset"]["shards"] = 7
    data["workload"]["mix"][1]["shards"] = 7
    scenario = load_scenario(write_scenario(tmp_path, data))
    assert [step_shards(scenario, step) for step in scenario.workload.mix] == [7, 7]


@pytest.mark.parametrize("run_time, seconds", [("1h30m", 5400), ("90", 90), (90, 90), ("2m", 120), ("45s", 45)])
def test_run_seconds(run_time, seconds):
    assert LoadSpec(run_time=run_time).run_seconds == seconds


def test_scenario_is_frozen():
    scenario = load_scenario(SCENARIOS / "quickstart.yaml")
    with pytest.raises(ValidationError):
        scenario.name = "changed"
    with pytest.raises(ValidationError):
        scenario.load.users = 1
    with pytest.raises(ValidationError):
        scenario.tables[0].key.hash = "other"
    assert isinstance(scenario.tables, tuple) and isinstance(scenario.workload.mix, tuple)


# ---- property: any mutation is a Scenario or one line of BadInput -------------------------

QUICKSTART = scenario_data("quickstart.yaml")

REPLACEMENTS = {
    "int": st.integers(min_value=0, max_value=10**12),
    "negative int": st.integers(max_value=-1),
    "string": st.text(max_size=12),
    "list": st.lists(st.integers() | st.text(max_size=4), max_size=3),
    "dict": st.dictionaries(st.text(max_size=6), st.integers() | st.text(max_size=4) | st.none(), max_size=3),
    "none": st.none(),
    "float": st.floats(allow_nan=True, allow_infinity=True),
}
SAME_TYPE = {int: "int", str: "string", list: "list", dict: "dict", type(None): "none", float: "float", bool: "int"}


def nodes(value, path=()):
    """Every (path, value) in a nested dict/list, containers included."""
    yield path, value
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield from nodes(child, path + (key,))


def parent_of(data, path):
    for key in path[:-1]:
        data = data[key]
    return data


@st.composite
def mutated_quickstart(draw):
    """The quickstart scenario with 1-3 mutations: delete a key, replace a leaf, add an unknown key."""
    data = copy.deepcopy(QUICKSTART)
    for _ in range(draw(st.integers(1, 3))):
        operation = draw(st.sampled_from(["delete", "replace", "replace", "add"]))
        everything = list(nodes(data))
        if operation == "delete":
            keyed = [path for path, _ in everything if path and isinstance(parent_of(data, path), dict)]
            if keyed:
                path = draw(st.sampled_from(keyed))
                del parent_of(data, path)[path[-1]]
        elif operation == "replace":
            leaves = [(path, value) for path, value in everything if path and not isinstance(value, (dict, list))]
            path, old = draw(st.sampled_from(leaves))
            kinds = [kind for kind in REPLACEMENTS if kind != SAME_TYPE.get(type(old))]
            parent_of(data, path)[path[-1]] = draw(REPLACEMENTS[draw(st.sampled_from(kinds))])
        else:
            mappings = [value for _, value in everything if isinstance(value, dict)]
            draw(st.sampled_from(mappings))[draw(st.text(min_size=1, max_size=8))] = draw(REPLACEMENTS["int"])
    return data


@settings(max_examples=300, deadline=None)
@given(mutated_quickstart())
def test_any_mutation_is_a_scenario_or_one_line_of_bad_input(data):
    try:
        scenario = parse_scenario(yaml.safe_dump(data), source=Path("mutated.yaml"))
    except BadInput as exc:
        message = str(exc)
        assert message.startswith("mutated.yaml: ")
        assert len(message.splitlines()) == 1, message
    else:
        assert isinstance(scenario, Scenario)
