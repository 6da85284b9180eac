"""PNG plots of a run, one function per plot, drawn with matplotlib's Agg canvas (no display, no pyplot state).

Each function takes the tidy frame its module computed, writes one PNG and returns its path, or
returns None when there is nothing to draw (the report then says so in words).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogFormatter

from harness.metrics.results_files import COMPOSITE_TYPES

LATENCY_PNG = "latency.png"
THROUGHPUT_PNG = "throughput.png"
THROTTLES_PNG = "throttles.png"
CAPACITY_PNG = "capacity.png"
HOT_KEYS_PNG = "hot_keys.png"
SCHEDULE_PNG = "schedule.png"
DPI = 100
PLAIN_NUMBERS = FuncFormatter(lambda value, _: f"{value:g}")
X_LABEL = "seconds since the run started"


def _figure(rows: int, height_per_row: float = 2.6) -> tuple[Figure, list]:
    """A figure of `rows` stacked panels sharing the x axis, with room on the right for legends.

    Fixed margins rather than constrained layout: layout solving was most of the drawing time.
    """
    height = 1.2 + height_per_row * rows
    figure = Figure(figsize=(11, height), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.07, right=0.74, top=1 - 0.55 / height, bottom=0.55 / height, hspace=0.45)
    axes = figure.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    for ax in axes:
        ax.grid(True, alpha=0.3)
    return figure, list(axes)


def _save(figure: Figure, path: Path) -> Path:
    partial = path.with_name(f".{path.name}.partial")  # a full disk leaves no half image behind
    try:
        figure.savefig(partial, format="png", dpi=DPI)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


MAX_POINTS = 720
"""Points per line at most: a plot is ~800 pixels wide, and drawing an hour second by second took seconds."""


def _thin(frame: pd.DataFrame, keys: list[str], how: str) -> tuple[pd.DataFrame, int]:
    """Long runs in bins of N seconds (`how`: "max" keeps spikes, "mean" keeps rates); returns the frame and N."""
    span = frame["second"].max() - frame["second"].min() + 1 if len(frame) else 0
    width = max(1, -(-int(span) // MAX_POINTS))
    if width == 1:
        return frame, 1
    binned = frame.assign(second=(frame["second"] // width) * width)
    return binned.groupby([*keys, "second"], as_index=False).agg(how, numeric_only=True), width


def _binned(width: int, how: str) -> str:
    return f", {how} per {width} s" if width > 1 else ""


def _label(kind: str, name: str) -> str:
    return f"{name} ({kind})"


def plot_latency(latency: pd.DataFrame, path: Path) -> Path | None:
    """p50, p95, p99 per step over time (Locust's rolling 10 s window), log scale in milliseconds."""
    if latency.empty or latency[["p50_ms", "p95_ms", "p99_ms"]].isna().all().all():
        return None
    latency, width = _thin(latency, ["type", "name"], "max")
    figure, axes = _figure(3)
    for ax, column, title in zip(axes, ("p50_ms", "p95_ms", "p99_ms"), ("p50", "p95", "p99"), strict=False):
        for (kind, name), rows in latency.groupby(["type", "name"], sort=True):
            ax.plot(rows["second"], rows[column], label=_label(kind, name), linestyle="--" if kind in COMPOSITE_TYPES else "-", linewidth=1.4)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(PLAIN_NUMBERS)
        ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.4)))  # 40, not 4×10¹
        ax.set_ylabel(f"{title} latency (ms)")
        ax.set_title(f"{title} response time per step (Locust's rolling 10 s window{_binned(width, 'highest')})", fontsize=10, loc="left")
    axes[0].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[-1].set_xlabel(X_LABEL)
    figure.suptitle("Latency percentiles over time", fontweight="bold")
    return _save(figure, path)


def plot_throughput(throughput: pd.DataFrame, window: int, path: Path) -> Path | None:
    """Requests/s per step and in total (composite rows not added), and failures/s when there were any, over time."""
    if throughput.empty:
        return None
    failed = throughput["failures_per_s"].sum() > 0
    throughput, width = _thin(throughput, ["type", "name"], "mean")
    figure, axes = _figure(2 if failed else 1, 2.6 if failed else 3.4)
    averaged = f" (averaged over each reporting interval, typically {window} s)" if window > 1 else ""
    averaged += f" (mean per {width} s)" if width > 1 else ""
    for (kind, name), rows in throughput.groupby(["type", "name"], sort=True):
        style = "--" if kind in COMPOSITE_TYPES else "-"
        axes[0].plot(rows["second"], rows["requests_per_s"], label=_label(kind, name), linestyle=style, linewidth=1.4)
        if failed:
            axes[1].plot(rows["second"], rows["failures_per_s"], label=_label(kind, name), linestyle=style, linewidth=1.4)
    total = throughput[~throughput["type"].isin(COMPOSITE_TYPES)].groupby("second")["requests_per_s"].sum()
    axes[0].plot(total.index, total.to_numpy(), color="black", linewidth=2, label="total (Lap and Chain rows not added)")
    axes[0].set_ylabel("requests/s")
    axes[0].set_title(f"Requests per second{averaged}{'' if failed else '; no request failed'}", fontsize=10, loc="left")
    if failed:
        axes[1].set_ylabel("failures/s")
        axes[1].set_title(f"Failed requests per second, throttled included{averaged}", fontsize=10, loc="left")
    axes[0].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[-1].set_xlabel(X_LABEL)
    figure.suptitle("Throughput over time", fontweight="bold")
    return _save(figure, path)


def plot_throttles(throttles: pd.DataFrame, path: Path) -> Path | None:
    """Throttled attempts per second (retried ones included) per table and index, stacked."""
    if throttles.empty or throttles["throttled_attempts"].sum() == 0:
        return None
    throttles, width = _thin(throttles, ["resource"], "mean")
    figure, (ax,) = _figure(1, 3.4)
    wide = throttles.pivot_table(index="second", columns="resource", values="throttled_attempts", aggfunc="sum", fill_value=0)
    ax.stackplot(wide.index, *(wide[column] for column in wide.columns), labels=list(wide.columns), alpha=0.85, step="post")
    ax.set_ylabel("throttled attempts/s")
    ax.set_xlabel(X_LABEL)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.suptitle(f"Throttled attempts per second (SDK retries included), by table and index{_binned(width, 'mean')}", fontweight="bold")
    return _save(figure, path)


def plot_capacity(capacity: pd.DataFrame, provisioned: dict[str, tuple[float, float]], path: Path) -> Path | None:
    """Consumed RCU and WCU per second per table/GSI, one panel each, with the provisioned level where there is one."""
    if capacity.empty:
        return None
    resources = sorted(capacity["resource"].unique())
    capacity, width = _thin(capacity, ["resource"], "max")
    figure, axes = _figure(len(resources), 2.2)
    for ax, resource in zip(axes, resources, strict=False):
        rows = capacity[capacity["resource"] == resource]
        ax.plot(rows["second"], rows["read_units"], color="tab:blue", label="consumed RCU/s", linewidth=1.4, drawstyle="steps-post")
        ax.plot(rows["second"], rows["write_units"], color="tab:orange", label="consumed WCU/s", linewidth=1.4, drawstyle="steps-post")
        read, write = provisioned.get(resource, (None, None))
        if read:
            ax.axhline(read, color="tab:blue", linestyle="--", linewidth=1, label=f"provisioned RCU ({read:g})")
        if write:
            ax.axhline(write, color="tab:orange", linestyle="--", linewidth=1, label=f"provisioned WCU ({write:g})")
        ax.set_ylabel("capacity units/s")
        ax.set_title(resource + _peak_use(rows, read, write), fontsize=10, loc="left")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[-1].set_xlabel(X_LABEL)
    figure.suptitle(f"Consumed capacity per second vs provisioned, per table and GSI{_binned(width, 'busiest second')}", fontweight="bold")
    return _save(figure, path)


def _peak_use(rows: pd.DataFrame, read: float | None, write: float | None) -> str:
    """' (peak second: read 110% of provisioned, write 0%)' for a provisioned resource, else ''."""
    parts = [f"{side} {rows[column].max() / limit:.0%}" for side, column, limit in (("read", "read_units", read), ("write", "write_units", write)) if limit]
    return f"  (busiest second: {', '.join(parts)} of provisioned)" if parts else ""


def plot_key_ranks(ranks: pd.DataFrame, path: Path) -> Path | None:
    """Attempts per partition key by rank (1 = hottest), log-log, one line per table and GSI: skew at a glance.

    Uniform access is a flat line; zipfian a straight falling one; one hot key a cliff after rank 1.
    """
    if ranks.empty:
        return None
    figure = Figure(figsize=(11, 4.6), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.07, right=0.74, top=0.88, bottom=0.13)
    ax = figure.subplots()
    ax.grid(True, which="both", alpha=0.3)
    for resource, rows in ranks.groupby("resource", sort=True):
        ax.plot(rows["rank"], rows["attempts"], label=f"{resource} ({len(rows):,} keys)", linewidth=1.4, marker="." if len(rows) < 50 else None)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(PLAIN_NUMBERS)
    ax.yaxis.set_major_formatter(PLAIN_NUMBERS)
    ax.set_xlabel("partition key rank (1 = most used)")
    ax.set_ylabel("attempts on the key")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.suptitle("Accesses by partition key rank (log-log): flat = even spread, steep = hot keys", fontweight="bold")
    return _save(figure, path)


def plot_schedule(view, path: Path) -> Path | None:
    """Open model: intended vs achieved task starts per second and the worst start lag, with stage boundaries."""
    schedule = view.schedule
    if schedule.empty:
        return None
    schedule, width = _thin(schedule.assign(kind=""), ["kind"], "mean")
    figure, (rate_ax, lag_ax) = _figure(2, 2.8)
    rate_ax.plot(schedule["second"], schedule["intended_starts"], color="tab:gray", linestyle="--", linewidth=1.6, label="intended (the schedule)", drawstyle="steps-post")
    rate_ax.plot(schedule["second"], schedule["starts"], color="tab:blue", linewidth=1.4, label="achieved (tasks started)", drawstyle="steps-post")
    rate_ax.set_ylabel("task starts/s")
    rate_ax.set_title(f"Task starts per second, intended vs achieved{_binned(width, 'mean')}", fontsize=10, loc="left")
    lag_ax.plot(schedule["second"], schedule["worst_lag_ms"].clip(lower=0.001), color="tab:red", linewidth=1.4, label="worst start lag", drawstyle="steps-post")
    late_after = view.info.get("late_after_ms", 10.0)
    lag_ax.axhline(late_after, color="tab:red", linestyle=":", linewidth=1, label=f"late: more than {late_after:g} ms")
    lag_ax.set_yscale("log")
    lag_ax.yaxis.set_major_formatter(PLAIN_NUMBERS)
    lag_ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.4)))
    lag_ax.set_ylabel("ms after intended")
    lag_ax.set_title("Worst start lag per second (how late the latest task started)", fontsize=10, loc="left")
    for number, (start, rate, users) in enumerate(view.stage_seconds):
        for ax in (rate_ax, lag_ax):
            ax.axvline(start, color="black", linewidth=0.8, alpha=0.6)
        rate_text = f"{rate:g}/s" if rate else "closed"
        rate_ax.annotate(f"stage {number + 1}: {rate_text}, {users} users", (start, 1.0), xycoords=("data", "axes fraction"), fontsize=7, rotation=90, va="top", ha="right")
    rate_ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    lag_ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    lag_ax.set_xlabel(X_LABEL)
    figure.suptitle("Throughput against the schedule (open model)" + (", with stage boundaries" if view.stage_seconds else ""), fontweight="bold")
    return _save(figure, path)
