"""The workshop's Exercise 1 through the capacity gate: items loaded per second into a 5-WCU table.

    .venv/bin/python -m bench.gate_capacity_curve [--items 2500] [--raise-after 60] [--burst-seconds 300]

Starts DynamoDB Local and the gate (DynamoDB's 300 s burst window by default), creates `tlog`
(5 RCU / 5 WCU, GSI host-requestid-gsi 5 / 5, as in the workshop), bulk-loads log items with the
harness's loader (4 senders, BatchWriteItem, UnprocessedItems re-sent with backoff), and raises
the table and GSI to 100 WCU with UpdateTable after `--raise-after` seconds (the workshop's
step 5). Writes bench/results/gate_capacity_curve.png (cumulative items and items/s) and .json.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import urllib.request
from pathlib import Path

from harness.datasets import logfile
from harness.gate import start_gate
from harness.scenario import ClientSettings, TableSpec
from harness.target import tables
from harness.target.client import Connection, make_client
from harness.target.loader import load_items
from harness.target.local import start_local

RESULTS = Path(__file__).resolve().parent / "results"
TABLE = "tlog"
GSI = "host-requestid-gsi"


class Recorder:
    """A client wrapper that notes when each BatchWriteItem returned and how many items it wrote."""

    def __init__(self, client):
        self.client = client
        self.accepted: list[tuple[float, int]] = []
        self.started = time.monotonic()

    def batch_write_item(self, **kwargs):
        sent = sum(len(requests) for requests in kwargs["RequestItems"].values())
        try:
            response = self.client.batch_write_item(**kwargs)
        except Exception:
            self.accepted.append((time.monotonic() - self.started, 0))
            raise
        unprocessed = sum(len(requests) for requests in response.get("UnprocessedItems", {}).values())
        self.accepted.append((time.monotonic() - self.started, sent - unprocessed))
        return response


def tlog_spec() -> TableSpec:
    return TableSpec.model_validate(
        {
            "name": TABLE,
            "attributes": {"requestid": "N", "host": "S"},
            "key": {"hash": "requestid"},
            "billing_mode": "PROVISIONED",
            "capacity": {"read": 5, "write": 5},
            "gsis": [{"name": GSI, "key": {"hash": "host", "range": "requestid"}, "projection": {"type": "INCLUDE", "non_key_attributes": ["bytessent"]}, "capacity": {"read": 5, "write": 5}}],
        }
    )


def rate_between(accepted: list[tuple[float, int]], start: float, end: float) -> float:
    """Items per second between the first and last accepting call inside [start, end]."""
    calls = [(moment, count) for moment, count in accepted if start <= moment <= end and count > 0]
    if len(calls) < 2:
        return float("nan")
    return sum(count for _, count in calls[1:]) / (calls[-1][0] - calls[0][0])


def plot(accepted: list[tuple[float, int]], raised_at: float, burst_seconds: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    moments, totals, total = [0.0], [0], 0
    for moment, count in accepted:
        total += count
        moments.append(moment)
        totals.append(total)
    seconds = int(moments[-1]) + 1
    per_second = [0] * seconds
    for moment, count in accepted:
        per_second[min(int(moment), seconds - 1)] += count
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    top.step(moments, totals, where="post", color="tab:blue")
    top.set_ylabel("items loaded")
    top.set_title(f"Loading {total:,} items into a 5-WCU table through the capacity gate (burst window {burst_seconds:g} s)")
    bottom.bar(range(seconds), [max(value, 0.8) for value in per_second], width=1.0, align="edge", color="tab:orange")
    bottom.set_yscale("log")
    bottom.set_ylabel("items/s (1 s bins, log)")
    bottom.set_xlabel("seconds since the load started")
    bottom.axhline(5, color="gray", linestyle="--", linewidth=1, label="5 WCU: 5 items/s")
    bottom.axhline(100, color="gray", linestyle=":", linewidth=1, label="100 WCU: 100 items/s")
    bottom.legend(loc="upper center")
    for axis in (top, bottom):
        axis.axvline(raised_at, color="tab:red", linewidth=1)
        axis.grid(alpha=0.3)
    top.text(raised_at + 0.5, totals[-1] * 0.05, "UpdateTable: 100 WCU", color="tab:red")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=2500)
    parser.add_argument("--raise-after", type=float, default=60.0)
    parser.add_argument("--burst-seconds", type=float, default=300.0)
    options = parser.parse_args()
    local = start_local()
    gate = start_gate(local.endpoint, burst_seconds=options.burst_seconds)
    try:
        client = make_client(Connection("us-east-1", gate.endpoint), ClientSettings())
        tables.ensure_table(client, tlog_spec())
        recorder = Recorder(client)
        raised = {}

        def raise_capacity() -> None:
            time.sleep(options.raise_after)
            units = {"ReadCapacityUnits": 100, "WriteCapacityUnits": 100}
            client.update_table(TableName=TABLE, ProvisionedThroughput=units, GlobalSecondaryIndexUpdates=[{"Update": {"IndexName": GSI, "ProvisionedThroughput": units}}])
            raised["at"] = time.monotonic() - recorder.started

        threading.Thread(target=raise_capacity, daemon=True).start()
        report = load_items(recorder, TABLE, logfile.generate_items(options.items, seed=1), total=options.items, workers=4, progress=False)
        with urllib.request.urlopen(gate.endpoint + "/gate/stats") as answer:
            stats = json.load(answer)
    finally:
        gate.stop()
        local.stop()
    accepted = recorder.accepted
    raised_at = raised.get("at", options.raise_after)
    running, burst_items, burst_seconds = 0, 0, 0.0
    for moment, count in accepted:  # the fast phase: until the first call that had items handed back
        running += count
        if count < 25:
            break
        burst_items, burst_seconds = running, moment
    summary = {
        "items": report.items,
        "seconds": report.seconds,
        "burst_window_seconds": options.burst_seconds,
        "fast_phase": {"items": burst_items, "seconds": burst_seconds},
        "sustained_items_per_second_at_5_wcu": rate_between(accepted, burst_seconds + 3, raised_at - 1),
        "items_per_second_after_raise_to_100_wcu": rate_between(accepted, raised_at + 2, accepted[-1][0]),
        "raised_at_seconds": raised_at,
        "throttles": stats["reasons"],
        "batches": report.batches,
        "resent_items": report.resent_items,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    plot(accepted, raised_at, options.burst_seconds, RESULTS / "gate_capacity_curve.png")
    (RESULTS / "gate_capacity_curve.json").write_text(json.dumps({**summary, "accepted": accepted}, indent=1) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
