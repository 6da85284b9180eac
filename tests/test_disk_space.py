"""Where results go: a --results-dir that cannot be written is refused before anything starts, and a disk
that fills up during a run stops it with one line, keeping what it wrote (a real tmpfs mounted here)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import scenario_data, write_scenario
from test_run_e2e import read_rows, run_dir_of

from harness.run.supervisor import DISK_FLOOR_BYTES

HARNESS = [sys.executable, "-m", "harness.cli"]
ROOT = os.geteuid() == 0


def mount_tmpfs(folder: Path, size_mb: int, read_only: bool = False) -> None:
    folder.mkdir()
    options = f"size={size_mb}m" + (",ro" if read_only else "")
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], check=True)


def unmount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], check=False)


def quick_scenario(tmp_path, table_name: str, run_time: str = "2m") -> Path:
    data = scenario_data("roundtrip.yaml")
    data["tables"][0]["name"] = table_name
    data["tables"][0]["dataset"]["size"] = 50
    data["workload"]["mix"][0]["table"] = table_name
    data["load"] = {"users": 2, "spawn_rate": 2, "run_time": run_time, "wait_time": {"constant": 0.01}, "stop_timeout": "5s"}
    return write_scenario(tmp_path, data)


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder this user cannot write to: a read-only tmpfs when root (root writes through file modes), else mode 0555."""
    folder = tmp_path / "read-only"
    if ROOT:
        mount_tmpfs(folder, 1, read_only=True)
        yield folder
        unmount(folder)
    else:
        folder.mkdir(mode=0o555)
        yield folder
        folder.chmod(0o755)


@pytest.mark.parametrize("where", ["read-only", "under-a-file", "too-small"])
def test_a_results_dir_that_cannot_take_a_run_is_refused_before_anything_starts(where, read_only_folder, tmp_path, table_name):
    if where == "read-only":
        results = read_only_folder / "results"
    elif where == "under-a-file":
        (tmp_path / "a-file").write_text("")
        results = tmp_path / "a-file" / "results"
    else:
        if not ROOT:
            pytest.skip("mounting a small file system needs root")
        results = tmp_path / "small"
        mount_tmpfs(results, 4)
    try:
        started = time.monotonic()
        done = subprocess.run(HARNESS + ["run", str(quick_scenario(tmp_path, table_name)), "--results-dir", str(results)], capture_output=True, text=True, timeout=60)
        print(f"refused in {time.monotonic() - started:.1f} s")
    finally:
        if where == "too-small":
            unmount(results)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith(f"Error: --results-dir {results}"), done.stderr
    assert "DynamoDB Local" not in done.stderr and done.stdout == ""  # nothing started
    assert not results.exists() or not any(path.is_dir() for path in results.iterdir())


def fill(disk: Path, leave_bytes: int) -> None:
    """Another program eats the disk: write until only `leave_bytes` are free (0: until the disk refuses)."""
    with open(disk / "filler", "ab") as filler:
        chunk = b"\0" * 2**20
        try:
            while shutil.disk_usage(disk).free > leave_bytes:
                filler.write(chunk[: max(4096, min(len(chunk), shutil.disk_usage(disk).free - leave_bytes))])
                filler.flush()
        except OSError:
            pass


@pytest.mark.skipif(not ROOT, reason="mounting a small tmpfs for the run's results needs root")
def test_a_disk_filling_up_mid_run_stops_the_run_with_one_line_and_keeps_its_files(tmp_path, table_name):
    disk = tmp_path / "disk"
    mount_tmpfs(disk, 40)
    try:
        process = subprocess.Popen(HARNESS + ["run", str(quick_scenario(tmp_path, table_name)), "--results-dir", str(disk)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not list(disk.glob("*/locust_stats.csv")):
            time.sleep(0.3)
        time.sleep(1)
        filled_at = time.time()
        fill(disk, DISK_FLOOR_BYTES // 2)
        stdout, stderr = process.communicate(timeout=60)
        run_dir = run_dir_of(disk)
        assert process.returncode == 4, stderr[-3000:]
        lines = [line for line in stderr.splitlines() if "disk space" in line]
        assert len(lines) == 1 and lines[0].startswith("ERROR out of disk space: ") and "the run stops and keeps what it wrote" in lines[0], stderr[-3000:]
        record = json.loads((run_dir / "harness_interruption.json").read_text())
        assert record["cause"] == "disk" and record["at"] - filled_at < 5
        for name in ("locust_stats.csv", "locust_stats_history.csv", "locust_report.html", "harness_requests.csv", "harness_latency.csv", "report.md", "summary.json"):
            assert (run_dir / name).stat().st_size > 0, name
        stats = {(row["Type"], row["Name"]): int(row["Request Count"]) for row in read_rows(run_dir / "locust_stats.csv")}
        assert stats[("GetItem", "walk_ring")] > 0
        assert "Stopped early" in (run_dir / "report.md").read_text() and f"results: {run_dir}" in stdout
        assert "Traceback" not in stderr
    finally:
        if process.poll() is None:
            process.kill()
        unmount(disk)
