"""Reports from run folders: golden report.md/summary.json over small fixtures, cost arithmetic, thresholds, compare, CLI.

tests/fixtures/runs/ holds run folders: `standalone`, `master-workers` (`ddb-harness run --workers 2`),
`only-failures` (a closed port) and `locust-only-master` (a plain Locust master, no harness files)
are real runs, cut to their CSV and JSON files; `throttled` is synthetic (throttles, laps, failures,
thresholds) in the same layouts; `empty` is what a run without requests writes. Golden outputs
live in tests/fixtures/golden/<run>/; regenerate them with UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO, scenario_data, write_scenario

from harness.cli import main
from harness.report import build_report, operations, plots
from harness.report.compare import compare_runs, render_comparison
from harness.report.cost import SHIPPED_PRICING, NoPricesForRegion, Prices, estimate, load_prices
from harness.report.latency import locust_bucket
from harness.report.load import NO_HARNESS_FILES
from harness.run import runner

FIXTURES = Path(__file__).parent / "fixtures"
RUNS = FIXTURES / "runs"
GOLDEN = FIXTURES / "golden"
GOLDEN_RUNS = ["standalone", "master-workers", "throttled", "only-failures", "locust-only-master", "empty"]
SUMMARY_KEYS = ["schema", "run", "totals", "operations", "latency_all_requests", "throttling", "capacity", "reads", "hot_keys", "cost", "thresholds", "plots", "notes", "open_model"]
HARNESS = [sys.executable, "-m", "harness.cli"]
PLACEHOLDER_PNG = b"\x89PNG\r\n\x1a\n"


def copy_run(name: str, into: Path) -> Path:
    """A fixture run folder copied under `into` (reports are written into the run folder)."""
    return Path(shutil.copytree(RUNS / name, into / name))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """Every fixture run copied and reported once for the module: name -> (run folder, ReportResult).

    Only `throttled` (which has all four plots) is drawn for real; the others write placeholder
    PNGs, since rendering is most of a build's time and the golden files only name the plots.
    """
    root = tmp_path_factory.mktemp("runs")
    runs = {"throttled": (folder := copy_run("throttled", root), build_report(folder))}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plots, "_save", placeholder_png)
        runs |= {name: (folder := copy_run(name, root), build_report(folder)) for name in GOLDEN_RUNS if name != "throttled"}
    return runs


def placeholder_png(figure, path: Path) -> Path:
    path.write_bytes(PLACEHOLDER_PNG)
    return path


@pytest.fixture
def fast_plots(monkeypatch):
    """Plots are decided and laid out but not rendered (rendering is most of a build's time)."""
    monkeypatch.setattr(plots, "_save", placeholder_png)


def summary_of(built: dict, name: str) -> dict:
    return json.loads((built[name][0] / "summary.json").read_text())


def operation(summary: dict, kind: str, name: str) -> dict:
    return next(row for row in summary["operations"] if (row["type"], row["name"]) == (kind, name))


# ---- golden files ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", GOLDEN_RUNS)
def test_report_and_summary_match_golden_files(built, name):
    """report.md and summary.json are pure functions of the run folder: nothing time-dependent to normalise."""
    folder = built[name][0]
    for filename in ("report.md", "summary.json"):
        produced = (folder / filename).read_text()
        golden = GOLDEN / name / filename
        if os.environ.get("UPDATE_GOLDEN"):
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(produced)
        assert golden.exists(), f"no golden file {golden}: run with UPDATE_GOLDEN=1 and review it"
        assert produced == golden.read_text(), f"{name}/{filename} differs from {golden} (UPDATE_GOLDEN=1 regenerates it)"


def test_summary_keys_are_stable(built):
    for name in GOLDEN_RUNS:
        summary = summary_of(built, name)
        assert list(summary) == SUMMARY_KEYS, name
        assert summary["schema"] == "ddb-harness-summary/1"
        assert set(summary["cost"]) >= {"estimate", "available", "note", "pricing", "run_usd", "per_hour_usd", "per_month_usd", "resources"}
    keys = {name: list(operation_row) for name in ("standalone", "throttled") for operation_row in summary_of(built, name)["operations"]}
    assert keys["standalone"] == keys["throttled"]


def test_report_files_are_written(built):
    folder, result = built["throttled"]
    names = {path.name for path in result.files}
    assert names == {"report.md", "report.html", "summary.json", "latency.png", "throughput.png", "throttles.png", "capacity.png"}
    html = (folder / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == 4
    assert 'src="latency.png"' not in html and "<script" not in html  # self-contained
    assert "![Throttled attempts per second](throttles.png)" in (folder / "report.md").read_text()
    for png in folder.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---- what the numbers say -------------------------------------------------------------------


def test_throttling_is_apart_from_other_failures_and_laps_are_not_totalled(built):
    summary = summary_of(built, "throttled")
    query = operation(summary, "Query", "count_404")
    assert (query["requests"], query["throttled_requests"], query["other_failures"], query["retries"]) == (200, 10, 0, 50)
    assert query["throttle_ratio"] == 0.05 and query["retries_per_request"] == 0.25
    assert (query["table"], query["index"]) == ("tlog_scan", "GSI_1")
    insert = operation(summary, "ExecuteStatement", "partiql_insert_order")
    assert (insert["failures"], insert["throttled_requests"], insert["other_failures"]) == (2, 0, 2)
    assert operation(summary, "Lap", "walk_ring")["composite"] is True
    assert summary["totals"]["requests"] == 400 + 1000 + 20 + 200  # the 100 laps are not added
    gsi = next(row for row in summary["throttling"]["by_resource"] if row["index"] == "GSI_1")
    assert (gsi["attempts"], gsi["throttled_attempts"], gsi["throttled_requests"]) == (850, 60, 10)
    assert gsi["reasons"] == "IndexReadProvisionedThroughputExceeded(GSI_1) ×60"
    assert summary["throttling"]["throttled_attempts"] == 66
    assert summary["throttling"]["peak_throttled_attempts_per_s"] == 24  # second 5: 20 on the GSI + 4 on the table
    assert summary["run"]["retries"] == {"mode": "standard", "max_attempts": 3}
    assert "botocore `standard` mode, max_attempts 3" in (built["throttled"][0] / "report.md").read_text()


def test_exact_latencies_with_locust_beside_where_they_differ(built):
    summary = summary_of(built, "throttled")
    get = operation(summary, "GetItem", "walk_ring")["latency_ms"]
    assert get["source"] == "harness" and get["p99"] == 10.159 and get["locust"]["p99"] == 10
    assert get["p99_9"] == 13.023 and get["locust"]["p99_9"] == 16
    report = (built["throttled"][0] / "report.md").read_text()
    assert "| GetItem | walk_ring | 1,000 | 4.31 | 4.01 | 6.69 | 7.60 | 10.2 | 13.0 (Locust: 16) | 16.3 | exact |" in report
    overall = summary["latency_all_requests"]
    assert overall["name"] == "All requests" and overall["count"] == 1620  # merged histograms without the Lap row


def test_capacity_utilisation_against_provisioned(built):
    rows = {(row["table"], row["index"]): row for row in summary_of(built, "throttled")["capacity"]}
    gsi = rows[("tlog_scan", "GSI_1")]
    assert (gsi["read_units"], gsi["peak_rcu_per_s"], gsi["provisioned_rcu"]) == (176.0, 24.0, 20)
    assert gsi["mean_rcu_per_s"] == 17.6 and gsi["peak_read_utilisation"] == 1.2 and gsi["mean_read_utilisation"] == 0.88
    assert rows[("orders", "")]["provisioned_wcu"] is None and rows[("orders", "")]["write_units"] == 400.0


def test_empty_run_with_locust_zero_row(built):
    summary = summary_of(built, "empty")
    assert summary["operations"] == [] and summary["totals"]["requests"] == 0
    assert summary["plots"] == [] and summary["latency_all_requests"] is None
    assert "No requests were recorded." in (built["empty"][0] / "report.md").read_text()


def test_run_with_only_header_lines(tmp_path):
    """Locust died before its first row: every CSV is a header line and nothing else."""
    folder = tmp_path / "headers-only"
    folder.mkdir()
    for name in ("locust_stats.csv", "locust_stats_history.csv", "locust_failures.csv"):
        with open(RUNS / "standalone" / name, newline="") as source:
            (folder / name).write_text(source.readline())
    result = build_report(folder)
    assert result.summary["totals"]["requests"] == 0 and result.summary["operations"] == []
    assert NO_HARNESS_FILES in result.summary["notes"]
    assert (folder / "report.html").exists()


def test_only_failures(built):
    summary = summary_of(built, "only-failures")
    get = operation(summary, "GetItem", "walk_ring")
    assert get["failures"] == get["requests"] > 0 and get["error_ratio"] == 1.0 and get["throttled_requests"] == 0
    report = (built["only-failures"][0] / "report.md").read_text()
    assert "| GetItem | walk_ring | connection | `ConnectionFailure('EndpointConnectionError" in report


def test_master_stats_have_the_standalone_layout(built):
    """A master writes Locust's CSVs with the same columns; its totals move at each worker report."""
    for name in ("locust_stats.csv", "locust_stats_history.csv", "locust_failures.csv"):
        headers = {run: next(csv.reader(open(RUNS / run / name, newline=""))) for run in ("standalone", "master-workers", "locust-only-master")}
        assert headers["standalone"] == headers["master-workers"] == headers["locust-only-master"], name
    summary = summary_of(built, "master-workers")
    assert summary["run"]["workers"] == 2 and summary["run"]["lost_workers"] == 0
    assert summary["totals"]["requests"] == sum(row["requests"] for row in summary["operations"] if not row["composite"])
    assert "2 workers" in (built["master-workers"][0] / "report.md").read_text()


def test_missing_harness_files_fall_back_to_locust(built):
    summary = summary_of(built, "locust-only-master")
    assert NO_HARNESS_FILES in summary["notes"]
    assert summary["run"]["latency_source"] == "locust"
    assert operation(summary, "GetItem", "walk_ring")["retries"] is None
    assert summary["throttling"]["attempts"] is None
    assert summary["cost"]["on_demand_run_usd"] is None  # consumed capacity unknown
    tlog = next(row for row in summary["cost"]["resources"] if (row["table"], row["index"]) == ("tlog_scan", ""))
    assert tlog["provisioned_per_hour_usd"] == pytest.approx(5000 * 0.00013 + 5000 * 0.00065)  # capacity from scenario.yaml


def test_locust_bucketing_is_locusts():
    """What locust.stats.bucket_response_time returns (Locust 2.47; banker's rounding included)."""
    locust = {0.4: 0, 0.5: 0, 1.5: 2, 2.5: 2, 99.4: 99, 99.6: 100, 147: 150, 155: 160, 999: 1000, 1049: 1000, 3432: 3400, 9950: 10000, 58760: 59000}
    assert {value: locust_bucket(value) for value in locust} == locust


# ---- cost -----------------------------------------------------------------------------------


def test_shipped_prices():
    prices = load_prices("us-east-1")
    assert (prices.read_per_million, prices.write_per_million, prices.rcu_hour, prices.wcu_hour) == (0.125, 0.625, 0.00013, 0.00065)
    assert prices.source == "AWS DynamoDB pricing page" and prices.date == "2024-11-01" and prices.hours_per_month == 730
    assert yaml.safe_load(SHIPPED_PRICING.read_text())["currency"] == "USD"
    with pytest.raises(NoPricesForRegion, match="no prices for region 'eu-west-1'"):
        load_prices("eu-west-1")


def capacity_row(table, index, billing, read_units, write_units, peak_rcu, peak_wcu, rcu=float("nan"), wcu=float("nan")):
    return {"table": table, "index": index, "billing_mode": billing, "read_units": read_units, "write_units": write_units,
            "peak_rcu_per_s": peak_rcu, "peak_wcu_per_s": peak_wcu, "provisioned_rcu": rcu, "provisioned_wcu": wcu}  # fmt: skip


def test_cost_arithmetic_by_hand():
    prices = Prices("us-east-1", "test", "2024-11-01", "test", "USD", 0.125, 0.625, 0.00013, 0.00065, 730)
    capacity = pd.DataFrame([
        capacity_row("orders", "", "PAY_PER_REQUEST", 2_000_000, 400_000, 10.5, 0),  # 1 hour of reads and writes
        capacity_row("logs", "", "PROVISIONED", 10, 0, 1, 0, rcu=100, wcu=50),
    ])  # fmt: skip
    cost = estimate(capacity, 3600, prices)
    orders, logs = cost.resources.to_dict("records")
    # on demand: 2 M reads x $0.125/M + 0.4 M writes x $0.625/M = $0.25 + $0.25
    assert orders["on_demand_run_usd"] == pytest.approx(0.5) and orders["on_demand_per_hour_usd"] == pytest.approx(0.5)
    assert orders["on_demand_per_month_usd"] == pytest.approx(365.0)
    # the same table provisioned at its measured peak: 11 RCU (10.5 rounded up) and 1 WCU (DynamoDB's minimum)
    assert (orders["provisioned_rcu"], orders["provisioned_wcu"]) == (11, 1)
    assert orders["provisioned_per_hour_usd"] == pytest.approx(11 * 0.00013 + 0.00065)
    # provisioned as declared: 100 RCU x $0.00013 + 50 WCU x $0.00065 = $0.0455 per hour, x 730 = $33.215 per month
    assert logs["provisioned_per_hour_usd"] == pytest.approx(0.0455) and logs["provisioned_per_month_usd"] == pytest.approx(33.215)
    assert logs["on_demand_run_usd"] == pytest.approx(10 * 0.125 / 1e6)
    # as billed: orders on demand + logs provisioned
    assert cost.run_usd == pytest.approx(0.5 + 0.0455) and cost.per_month_usd == pytest.approx(365.0 + 33.215)


def test_run_cost_of_the_throttled_fixture(built):
    cost = summary_of(built, "throttled")["cost"]
    resources = {(row["table"], row["index"]): row for row in cost["resources"]}
    assert resources[("orders", "")]["on_demand_run_usd"] == pytest.approx(400 * 0.625 / 1e6)  # 400 WRU
    assert resources[("orders", "")]["on_demand_per_hour_usd"] == pytest.approx(400 * 0.625 / 1e6 * 360)  # 10 s of the run
    assert resources[("tlog_scan", "")]["provisioned_per_hour_usd"] == pytest.approx(0.0455)
    expected_run = 400 * 0.625 / 1e6 + 500 * 0.125 / 1e6 + (0.0455 + 20 * 0.00013 + 50 * 0.00065) * 10 / 3600
    assert cost["run_usd"] == pytest.approx(expected_run, rel=1e-5)
    assert cost["pricing"]["source"] == "AWS DynamoDB pricing page"
    assert "**This is an estimate**" in (built["throttled"][0] / "report.md").read_text()


def test_other_pricing_file_and_region(tmp_path, fast_plots):
    folder = copy_run("throttled", tmp_path)
    pricing = tmp_path / "prices.yaml"
    data = yaml.safe_load(SHIPPED_PRICING.read_text())
    data["regions"]["eu-west-1"] = {"on_demand": {"read_per_million": 1, "write_per_million": 2}, "provisioned": {"rcu_hour": 0.001, "wcu_hour": 0.002}}
    pricing.write_text(yaml.safe_dump(data))
    result = build_report(folder, pricing=pricing, pricing_region="eu-west-1")
    orders = next(row for row in result.summary["cost"]["resources"] if row["table"] == "orders")
    assert orders["on_demand_run_usd"] == pytest.approx(400 * 2 / 1e6)
    assert result.summary["cost"]["pricing"]["file"] == str(pricing)
    missing = build_report(folder, pricing_region="ap-south-1")
    assert missing.summary["cost"]["available"] is False and "no prices for region 'ap-south-1'" in missing.summary["cost"]["note"]


# ---- thresholds -----------------------------------------------------------------------------


def test_thresholds_pass_and_fail(built):
    result = built["throttled"][1]
    assert [(b.name, b.metric, b.value) for b in result.broken] == [("count_404", "throttle_ratio", 0.05)]
    thresholds = summary_of(built, "throttled")["thresholds"]
    assert (thresholds["checked"], thresholds["broken"], thresholds["passed"]) == (7, 1, False)
    report = (built["throttled"][0] / "report.md").read_text()
    assert "**1 of 7 threshold checks BROKEN** (exit code 3): count_404 (Query): throttle_ratio 0.05 > 0.01" in report


def test_thresholds_that_hold_and_a_step_without_requests(tmp_path, fast_plots):
    folder = copy_run("throttled", tmp_path)
    scenario = yaml.safe_load((folder / "scenario.yaml").read_text())
    scenario["thresholds"] = [{"step": "count_404", "throttle_ratio": 0.06, "p99_ms": 130}, {"step": "*", "p50_ms": 500}]
    (folder / "scenario.yaml").write_text(yaml.safe_dump(scenario))
    assert build_report(folder).broken == ()
    empty = copy_run("empty", tmp_path)
    scenario = yaml.safe_load((empty / "scenario.yaml").read_text())
    scenario["thresholds"] = [{"step": "*", "error_ratio": 0.1}]
    (empty / "scenario.yaml").write_text(yaml.safe_dump(scenario))
    broken = build_report(empty).broken
    assert [b.describe() for b in broken] == ["every step: error_ratio: no requests recorded (limit 0.1)"]


def test_runner_exit_code_after_the_report(tmp_path, caplog, fast_plots):
    folder = copy_run("throttled", tmp_path)
    assert runner.build_run_report(0, folder) == runner.EXIT_THRESHOLD_BROKEN == 3
    assert runner.build_run_report(1, folder) == 1  # Locust's own failure comes first
    assert "threshold broken: count_404 (Query): throttle_ratio 0.05 > 0.01" in caplog.text
    (folder / "locust_stats.csv").write_bytes(b'"unclosed\n')  # a report that cannot build loses nothing
    caplog.clear()
    assert runner.build_run_report(0, folder) == 0
    assert [record.levelname for record in caplog.records] == ["ERROR"] and "report not built" in caplog.text
    assert (folder / "locust_stats_history.csv").exists()


# ---- compare and the CLI --------------------------------------------------------------------


def test_compare_runs(built):
    result = compare_runs(built["standalone"][0], built["master-workers"][0])
    assert result["runs"] == {"a": "standalone", "b": "master-workers"}
    requests = result["totals"]["requests"]
    assert (requests["a"], requests["b"], requests["delta"]) == (591, 1279, 688)
    assert requests["change"] == pytest.approx(688 / 591)
    get = next(row for row in result["operations"] if (row["type"], row["name"]) == ("GetItem", "walk_ring"))
    assert get["p99"]["a"] == 165.503 and get["p99"]["b"] is not None
    lap = next(row for row in result["operations"] if row["type"] == "Lap")
    assert lap["requests_per_s"]["a"] is None and lap["requests_per_s"]["change"] is None
    text = render_comparison(result)
    assert "| GetItem | walk_ring | 132.8 → 196.3 (+47.8%) |" in text
    assert "| estimated cost per month | $5,526.01 → $5,537.59 (+0.2%) |" in text


def cli(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def test_cli_report_and_compare(built, tmp_path, fast_plots):
    folder = copy_run("throttled", tmp_path)
    done = cli("report", folder)
    assert done.exit_code == 3, done.output
    assert "threshold broken: count_404 (Query): throttle_ratio 0.05 > 0.01" in done.output
    assert f"report: {folder / 'report.md'}" in done.output
    assert json.loads((folder / "summary.json").read_text())["thresholds"]["broken"] == 1
    assert cli("report", built["standalone"][0]).exit_code == 0
    missing = cli("report", tmp_path / "nowhere")
    assert missing.exit_code == 1 and "not a folder" in missing.output and "Traceback" not in missing.output
    compared = cli("compare", built["standalone"][0], folder)
    assert compared.exit_code == 0 and "| GetItem | walk_ring |" in compared.output
    as_json = cli("compare", built["standalone"][0], folder, "--json")
    assert json.loads(as_json.output)["runs"]["b"] == "throttled"


def test_report_package_never_imports_locust():
    """harness.report (and the collector module whose histograms it merges) reads files without Locust."""
    modules = [f"harness.report.{path.stem}" for path in (REPO / "harness" / "report").glob("*.py")] + ["harness.metrics.latency"]
    code = f"import importlib, sys; [importlib.import_module(name) for name in {modules!r}]; assert 'locust' not in sys.modules, 'locust imported'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


# ---- end to end -----------------------------------------------------------------------------


def test_run_writes_the_report_and_exits_3_on_a_broken_threshold(endpoint, tmp_path):
    """A real headless run against DynamoDB Local with an impossible p99: report files, exit code 3."""
    data = scenario_data("roundtrip.yaml")
    data["thresholds"] = [{"step": "walk_ring", "p99_ms": 0.001}, {"step": "*", "error_ratio": 0.5}]
    path = write_scenario(tmp_path, data)
    results = tmp_path / "results"
    command = HARNESS + ["run", str(path), "--endpoint-url", endpoint, "--run-time", "3s", "--users", "2", "--results-dir", str(results)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=REPO)
    assert done.returncode == 3, done.stdout[-2000:] + done.stderr[-3000:]
    (run_dir,) = [folder for folder in results.iterdir() if folder.is_dir()]
    report = (run_dir / "report.md").read_text()
    assert "BROKEN" in report and "walk_ring (GetItem): p99_ms" in report and "> 0.001 ms" in report
    assert "threshold broken: walk_ring (GetItem): p99_ms" in done.stderr
    assert 'src="data:image/png;base64,' in (run_dir / "report.html").read_text()
    assert {"latency.png", "throughput.png", "capacity.png"} <= {png.name for png in run_dir.glob("*.png")}
    summary = json.loads((run_dir / "summary.json").read_text())
    assert list(summary) == SUMMARY_KEYS and summary["run"]["latency_source"] == "harness"
    assert summary["thresholds"]["broken"] == 1 and summary["totals"]["requests"] > 0
    assert summary["cost"]["run_usd"] is not None
    assert f"report: {run_dir / 'report.md'}" in done.stdout


def test_failure_periods_say_when_each_step_began_and_stopped_failing():
    series = pd.DataFrame({
        "second": [0, 1, 2, 3, 0, 1, 2, 3],
        "type": ["GetItem"] * 4 + ["Query"] * 4,
        "name": ["walk"] * 4 + ["count"] * 4,
        "requests_per_s": [10.0] * 8,
        "failures_per_s": [0, 2, 0, 3, 0, 0, 0, 0],
    })  # fmt: skip
    periods = operations.failure_periods(series)
    assert periods.to_dict("records") == [
        {"type": "GetItem", "name": "walk", "first_second": 1, "last_second": 3, "failing_seconds": 2, "failures": 5.0},
    ]
    assert operations.failure_periods(series[series["type"] == "Query"]).empty
