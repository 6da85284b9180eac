"""Two runs side by side: per-operation throughput, p50/p99, throttles and errors, then run totals and cost.

Both runs are analysed from their files (as `ddb-harness report` would); run A is the baseline and
every delta reads B - A. Cost is per table and GSI: consumed capacity is not recorded per step.
"""

from __future__ import annotations

from pathlib import Path

from harness.report import fmt
from harness.report.analysis import analyse
from harness.report.document import Document, Section, table
from harness.report.render_md import render_markdown
from harness.report.summary import summary

OPERATION_METRICS = (
    ("requests_per_s", "req/s", fmt.rate),
    ("p50", "p50 ms", fmt.ms),
    ("p99", "p99 ms", fmt.ms),
    ("throttled_requests", "throttled requests", fmt.count),
    ("throttle_ratio", "throttle %", fmt.percent),
    ("error_ratio", "error %", fmt.percent),
)
TOTAL_METRICS = (
    ("requests", "requests", fmt.count),
    ("requests_per_s", "req/s", fmt.rate),
    ("throttled_requests", "throttled requests", fmt.count),
    ("throttled_attempts", "throttled attempts", fmt.count),
    ("error_ratio", "error %", fmt.percent),
    ("run_usd", "estimated cost, run", fmt.usd),
    ("per_hour_usd", "estimated cost per hour", fmt.usd),
    ("per_month_usd", "estimated cost per month", fmt.usd),
)


def compare_runs(run_a: str | Path, run_b: str | Path, pricing: Path | None = None, pricing_region: str | None = None) -> dict:
    """The comparison of two run folders as a JSON-ready dict: runs, operations, totals, cost_by_resource, cost_notes."""
    return comparison(summary(analyse(run_a, pricing, pricing_region), []), summary(analyse(run_b, pricing, pricing_region), []))


def comparison(a: dict, b: dict) -> dict:
    """Compare two summary.json dicts: every metric as {a, b, delta, change} (change = delta / a, null when a is 0)."""
    ops_a, ops_b = _operations(a), _operations(b)
    keys = sorted(set(ops_a) | set(ops_b), key=lambda key: (key[1], key[0]))
    return {
        "runs": {"a": a["run"]["run_id"], "b": b["run"]["run_id"]},
        "operations": [
            {"type": key[0], "name": key[1], **{metric: _delta(ops_a.get(key, {}).get(metric), ops_b.get(key, {}).get(metric)) for metric, _, _ in OPERATION_METRICS}}
            for key in keys
        ],
        "totals": {metric: _delta(_total(a, metric), _total(b, metric)) for metric, _, _ in TOTAL_METRICS},
        "cost_by_resource": _cost_by_resource(a, b),
        "cost_notes": {"a": a["cost"]["note"], "b": b["cost"]["note"]},
    }


def render_comparison(result: dict) -> str:
    """The comparison as Markdown: one table per operation metric set, then totals and cost."""
    runs = result["runs"]
    op_rows = [
        [row["type"], row["name"], *(_cell(row[metric], show) for metric, _, show in OPERATION_METRICS)]
        for row in result["operations"]
    ]  # fmt: skip
    op_columns = ["type", "step", *(label for _, label, _ in OPERATION_METRICS)]
    total_rows = [[label, _cell(result["totals"][metric], show)] for metric, label, show in TOTAL_METRICS]
    cost_rows = [[row["resource"], _cell(row["per_month_usd"], fmt.usd)] for row in result["cost_by_resource"]]
    sections = [
        Section("Per operation", ("Each cell: A → B (change).", table(op_columns, op_rows, set(op_columns[2:])))),
        Section("Totals (Lap and Chain rows not added)", (table(["metric", "A → B (change)"], total_rows, {"A → B (change)"}),)),
    ]
    if cost_rows:
        sections.append(Section("Estimated cost per table and GSI, per month at the measured rate, as billed", (table(["table / index", "A → B (change)"], cost_rows, {"A → B (change)"}),)))
    notes = tuple(f"Run {run.upper()}: {note}" for run, note in result["cost_notes"].items() if note)
    intro = (f"A = `{runs['a']}`, B = `{runs['b']}`. Costs are estimates.", *notes)
    return render_markdown(Document("Comparison", intro, tuple(sections)))


def _operations(summary_dict: dict) -> dict[tuple[str, str], dict]:
    out = {}
    for row in summary_dict["operations"]:
        latency = row.get("latency_ms") or {}
        out[(row["type"], row["name"])] = {**row, "p50": latency.get("p50"), "p99": latency.get("p99")}
    return out


def _total(summary_dict: dict, metric: str):
    if metric in summary_dict["totals"]:
        return summary_dict["totals"][metric]
    if metric == "throttled_attempts":
        return summary_dict["throttling"]["throttled_attempts"]
    return summary_dict["cost"].get(metric)


def _cost_by_resource(a: dict, b: dict) -> list[dict]:
    def per_resource(summary_dict: dict) -> dict[str, float | None]:
        rows = summary_dict["cost"].get("resources") or []
        return {
            (f"{row['table']} / {row['index']}" if row["index"] else row["table"]): row["provisioned_per_month_usd" if row["billed_as"] == "provisioned" else "on_demand_per_month_usd"]
            for row in rows
        }

    cost_a, cost_b = per_resource(a), per_resource(b)
    return [{"resource": name, "per_month_usd": _delta(cost_a.get(name), cost_b.get(name))} for name in sorted(set(cost_a) | set(cost_b))]


def _delta(a, b) -> dict:
    delta = b - a if a is not None and b is not None else None
    change = delta / a if delta is not None and a else None
    return {"a": a, "b": b, "delta": delta, "change": change}


def _cell(values: dict, show) -> str:
    a, b, change = values["a"], values["b"], values["change"]
    text = f"{fmt.MISSING if a is None else show(a)} → {fmt.MISSING if b is None else show(b)}"
    return text + (f" ({100 * change:+.1f}%)" if change is not None else "")
