"""Reports of a run folder: pandas over Locust's CSVs and the harness's files; no Locust import here.

- `load`, `run_info`: read the folder (every file optional; missing ones become notes).
- `operations`, `latency`, `throttling`, `capacity`, `cost`, `thresholds`: one kind of number each.
- `open_model`: a run at a target rate: corrected latency, late starts, the schedule and its stages.
- `analysis`: all of them for one run; `sections`, `render_md`, `render_html`, `plots`, `summary`: the outputs.
- `build`: `build_report(run_dir)` writes report.md, report.html, summary.json and PNG plots.
- `compare`: per-operation deltas between two runs.

May import metrics (latency histograms, file names), scenario and the shared leaves; never workload, ops or target.
"""

from harness.report.build import ReportResult, build_report
from harness.report.compare import compare_runs

__all__ = ["ReportResult", "build_report", "compare_runs"]
