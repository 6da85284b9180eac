"""build_report(run_dir): every report file of a run folder, from its files alone.

Writes report.md, report.html (self-contained), summary.json and the PNG plots into the run
folder and returns what was written and whether the scenario's thresholds hold.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from harness.metrics import results_files as files
from harness.metrics.files import whole_file
from harness.report import plots
from harness.report.analysis import Analysis, analyse
from harness.report.render_html import render_html
from harness.report.render_md import render_markdown
from harness.report.sections import document
from harness.report.summary import summary as summary_of
from harness.report.thresholds import ThresholdResult


@dataclass(frozen=True)
class ReportResult:
    """What build_report wrote and found."""

    run_dir: Path
    files: tuple[Path, ...]
    summary: dict
    thresholds: tuple[ThresholdResult, ...]
    seconds: float
    """Wall-clock time the build took."""

    @property
    def broken(self) -> tuple[ThresholdResult, ...]:
        """The threshold checks that failed (empty when all hold or none are declared)."""
        return tuple(result for result in self.thresholds if not result.ok)


def build_report(run_dir: str | Path, pricing: Path | None = None, pricing_region: str | None = None) -> ReportResult:
    """Analyse `run_dir` and write report.md, report.html, summary.json and the plots into it.

    `pricing` replaces the shipped pricing.yaml; `pricing_region` the run's own region for prices.
    Raises ReportError (not a run folder, unreadable file) or BadInput (bad pricing file).
    """
    started = time.perf_counter()
    run_dir = Path(run_dir)
    analysis = analyse(run_dir, pricing, pricing_region)
    images = draw_plots(analysis, run_dir)
    report = document(analysis, images)
    summary = summary_of(analysis, list(images.values()))
    written = [run_dir / name for name in images.values()]
    written.append(_write(run_dir / files.REPORT_MD, render_markdown(report)))
    written.append(_write(run_dir / files.REPORT_HTML, render_html(report, run_dir)))
    written.append(_write(run_dir / files.SUMMARY_JSON, json.dumps(summary, indent=2, ensure_ascii=False) + "\n"))
    return ReportResult(run_dir, tuple(written), summary, analysis.thresholds, time.perf_counter() - started)


def draw_plots(analysis: Analysis, run_dir: Path) -> dict[str, str]:
    """Draw every plot that has data; {plot file name: file name} of those drawn. Stale ones are removed."""
    provisioned = {
        (f"{row.table} / {row.index}" if row.index else row.table): (row.provisioned_rcu, row.provisioned_wcu)
        for row in analysis.capacity.itertuples(index=False)
        if row.provisioned_rcu == row.provisioned_rcu
    }
    drawn = {
        plots.LATENCY_PNG: plots.plot_latency(analysis.latency_series, run_dir / plots.LATENCY_PNG),
        plots.THROUGHPUT_PNG: plots.plot_throughput(analysis.throughput_series, analysis.throughput_window, run_dir / plots.THROUGHPUT_PNG),
        plots.THROTTLES_PNG: plots.plot_throttles(analysis.throttle_series, run_dir / plots.THROTTLES_PNG),
        plots.CAPACITY_PNG: plots.plot_capacity(analysis.capacity_series, provisioned, run_dir / plots.CAPACITY_PNG),
        plots.HOT_KEYS_PNG: plots.plot_key_ranks(analysis.key_ranks, run_dir / plots.HOT_KEYS_PNG),
        plots.SCHEDULE_PNG: plots.plot_schedule(analysis.open_model, run_dir / plots.SCHEDULE_PNG) if analysis.open_model else None,
    }
    for name, path in drawn.items():
        if path is None:
            (run_dir / name).unlink(missing_ok=True)
    return {name: name for name, path in drawn.items() if path is not None}


def _write(path: Path, text: str) -> Path:
    with whole_file(path) as handle:  # a full disk leaves the previous report, never half of one
        handle.write(text)
    return path
