"""Every bad input of tests/tally_bad_inputs.py, in-process: one clean `Error:` line and exit 2, nothing started.

The tally script runs the same cases as real processes and prints the totals.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from tally_bad_inputs import RESULTS, Outcome, cases, write_inputs

from harness.cli import main
from harness.run import runner

CASES = sorted(cases(Path("scratch")))  # names only


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad-inputs")
    write_inputs(folder)
    return folder


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_one_clean_error(name, scratch, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "run", lambda *args, **kwargs: pytest.fail("a run started"))
    arguments = [str(tmp_path / "results") if argument == RESULTS else argument for argument in cases(scratch)[name]]
    result = CliRunner().invoke(main, arguments)
    outcome = Outcome(name, result.exit_code, result.stdout, result.stderr, (tmp_path / "results").exists())
    assert outcome.clean, (outcome.code, outcome.stdout, outcome.stderr, result.exception)
