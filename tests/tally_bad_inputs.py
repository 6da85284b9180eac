"""Every bad input the harness is given, through the real command line: is the answer one clean error line and exit 2?

    .venv/bin/python tests/tally_bad_inputs.py        # prints "N bad inputs tried, M got a clean one-line error with exit 2"

Bad inputs: each file of tests/bad_scenarios/ given to `validate` and to `run`, each model of
tests/fixtures/models/bad/ given to `import`, bad command-line flags, and unusable targets (a missing file, a folder, real AWS without opt-in, a run above
--max-cost). Each runs as its own `python -m harness.cli` process. Clean means: exit code 2, exactly
one stderr line starting with `Error:`, no traceback, nothing on stdout, and no results folder
created. Click adds its two-line usage hint above the error of a bad flag; the tally counts those
lines apart ("with click's usage hint"). tests/test_bad_inputs.py runs the same cases in-process.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BAD_SCENARIOS = sorted((HERE / "bad_scenarios").glob("*.yaml"))
BAD_MODELS = sorted((HERE / "fixtures" / "models" / "bad").iterdir())
GOOD = REPO / "scenarios" / "roundtrip.yaml"
AWS_SCENARIO = """name: aws-guarded
target: {kind: aws, region: eu-west-1}
tables:
  - {name: ring, attributes: {primary_key: S}, key: {hash: primary_key}, dataset: {model: ring}}
workload: {mix: [{task: walk_ring, table: ring}]}
"""
RESULTS = "RESULTS"  # replaced by a fresh folder per case


@dataclass(frozen=True)
class Outcome:
    name: str
    code: int
    stdout: str
    stderr: str
    results_created: bool

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("Error:")]

    @property
    def clean(self) -> bool:
        return self.code == 2 and len(self.error_lines) == 1 and "Traceback" not in self.stderr and not self.stdout and not self.results_created

    @property
    def one_line(self) -> bool:
        return self.clean and len(self.stderr.splitlines()) == 1


def write_inputs(scratch: Path) -> None:
    """The files some cases read, into `scratch`."""
    (scratch / "aws.yaml").write_text(AWS_SCENARIO)


def cases(scratch: Path) -> dict[str, list[str]]:
    """Name -> ddb-harness arguments, one bad input each (after write_inputs(scratch))."""
    aws = scratch / "aws.yaml"
    found = {}
    for path in BAD_SCENARIOS:
        found[f"validate {path.stem}"] = ["validate", str(path)]
        found[f"run {path.stem}"] = ["run", str(path), "--results-dir", RESULTS]
    flags = {
        "--workers 0": ["--workers", "0"],
        "--workers -2": ["--workers", "-2"],
        "--workers many": ["--workers", "many"],
        "--workers 2 --master": ["--workers", "2", "--master"],
        "--max-cost -1": ["--max-cost", "-1"],
        "--max-cost abc": ["--max-cost", "abc"],
        "--run-time nonsense": ["--run-time", "nonsense"],
        "--run-time 0s": ["--run-time", "0s"],
        "--run-time 1.5h": ["--run-time", "1.5h"],
        "--users 0": ["--users", "0"],
        "--users ten": ["--users", "ten"],
        "--spawn-rate 0": ["--spawn-rate", "0"],
        "--expect-workers 0": ["--expect-workers", "0"],
        "--master-port 70000": ["--master-port", "70000"],
    }
    for name, extra in flags.items():
        found[f"run {name}"] = ["run", str(GOOD), *extra, "--results-dir", RESULTS]
    found["setup --max-cost -1"] = ["setup", str(GOOD), "--max-cost", "-1"]
    found["run missing file"] = ["run", str(scratch / "nowhere.yaml"), "--results-dir", RESULTS]
    found["run a folder"] = ["run", str(scratch), "--results-dir", RESULTS]
    found["run real AWS without opt-in"] = ["run", str(aws), "--results-dir", RESULTS]
    found["setup real AWS without opt-in"] = ["setup", str(aws)]
    found["teardown real AWS without opt-in"] = ["teardown", str(aws)]
    found["run real AWS above --max-cost"] = ["run", str(aws), "--allow-aws", "--max-cost", "0.0001", "--results-dir", RESULTS]
    for path in BAD_MODELS:  # the scenario `import` would write is the RESULTS path: nothing may appear there
        found[f"import {path.name}"] = ["import", str(path), "-o", RESULTS]
    found["import --scale without ="] = ["import", str(HERE / "fixtures" / "models" / "shop_workbench.json"), "--scale", "customers", "-o", RESULTS]
    return found


def run_case(name: str, arguments: list[str], scratch: Path) -> Outcome:
    results = Path(tempfile.mkdtemp(dir=scratch)) / "results"
    arguments = [str(results) if argument == RESULTS else argument for argument in arguments]
    done = subprocess.run([sys.executable, "-m", "harness.cli", *arguments], capture_output=True, text=True, timeout=120, cwd=REPO)
    return Outcome(name, done.returncode, done.stdout, done.stderr, results.exists())


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        write_inputs(scratch)
        with ThreadPoolExecutor(max_workers=4) as pool:
            outcomes = list(pool.map(lambda item: run_case(*item, scratch), cases(scratch).items()))
    clean = [outcome for outcome in outcomes if outcome.clean]
    strict = [outcome for outcome in clean if outcome.one_line]
    for outcome in outcomes:
        if not outcome.clean:
            print(f"NOT CLEAN {outcome.name}: exit {outcome.code}, stdout {outcome.stdout[:200]!r}, stderr {outcome.stderr[-400:]!r}")
    print(f"{len(outcomes)} bad inputs tried, {len(clean)} got a clean one-line error with exit 2")
    print(f"  {len(strict)} of them with nothing else on stderr, {len(clean) - len(strict)} with click's usage hint above the error line")
    corpus = sum(1 for outcome in outcomes if outcome.name.startswith("validate "))
    print(f"  corpus: {corpus} files in tests/bad_scenarios/ (each through validate and run); other inputs: {len(outcomes) - 2 * corpus}")
    return 0 if len(clean) == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
