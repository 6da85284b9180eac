"""Each test model imported (`ddb-harness import`) and its starter mix run alone: what the import makes and how it runs.

    .venv/bin/python -m bench.imported_models                     # 5 models, 1,000 items per entity, 15 s runs, ~3 min
    .venv/bin/python -m bench.imported_models --items 200 --run-time 5s

For every model of tests/fixtures/models/: tables, entities (facets, or kinds of items), items
generated, import time (import_model in this process, median of --imports), sample and generated
item sizes (mean and p99 KB, from the importer's summary: the first 500 items of each entity), then
one `ddb-harness run` of the imported scenario as written (4 users, no wait) against the embedded
DynamoDB Local: req/s and p99 of all requests (the harness's HDR histogram, summary.json), failures.
Writes bench/results/imported_models.json and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.run import REPO, RESULTS, machine
from harness.modeling import import_model

MODELS = ("social_workbench.json", "shop_workbench.json", "songs_workbench.json", "orders_cfn.yaml", "telemetry_cfn.json")
FOLDER = REPO / "tests" / "fixtures" / "models"


def measure(model: str, items: int, run_time: str, imports: int, folder: Path) -> dict:
    """Import `model` `imports` times (median seconds), then run the scenario once; one row of numbers."""
    seconds = []
    for _attempt in range(imports):
        started = time.perf_counter()
        result = import_model(FOLDER / model, folder / f"{Path(model).stem}.yaml", items=items, force=True)
        seconds.append(time.perf_counter() - started)
    results = folder / f"results-{Path(model).stem}"
    command = [sys.executable, "-m", "harness.cli", "run", str(result.path), "-t", run_time, "--results-dir", str(results)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=600)
    (run_dir,) = [path for path in results.iterdir() if path.is_dir()]
    summary = json.loads((run_dir / "summary.json").read_text())
    return {
        "model": model,
        "tables": len(result.scenario.tables),
        "entities": len(result.entities),
        "items": sum(entity.items for entity in result.entities),
        "import_s": statistics.median(seconds),
        "steps": result.steps,
        "requests_per_s": summary["totals"]["requests_per_s"],
        "p99_ms": summary["latency_all_requests"]["p99"],
        "failures": summary["totals"]["failures"],
        "exit_code": done.returncode,
        "sizes": [
            {"entity": f"{entity.table}.{entity.entity}", "samples": entity.samples, "sample_mean_kb": entity.sample_mean_kb, "sample_p99_kb": entity.sample_p99_kb,
             "generated_mean_kb": entity.generated_mean_kb, "generated_p99_kb": entity.generated_p99_kb}  # fmt: skip
            for entity in result.entities
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--run-time", default="15s")
    parser.add_argument("--imports", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rows = [measure(model, args.items, args.run_time, args.imports, Path(folder)) for model in MODELS]
    report = {"when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "machine": machine(), "args": vars(args), "models": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "imported_models.json").write_text(json.dumps(report, indent=2))
    print("| model | tables | entities | items | import s | starter steps | req/s | p99 ms | failures |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['model']} | {row['tables']} | {row['entities']} | {row['items']:,} | {row['import_s']:.2f} | {row['steps']} "
            f"| {row['requests_per_s']:.0f} | {row['p99_ms']:.1f} | {row['failures']} |"
        )
    print("\n| entity | samples | sample mean / p99 KB | generated mean / p99 KB |")
    print("| --- | ---: | ---: | ---: |")
    for row in rows:
        for size in row["sizes"]:
            if size["samples"]:
                print(
                    f"| {size['entity']} | {size['samples']} | {size['sample_mean_kb']:.3f} / {size['sample_p99_kb']:.3f} "
                    f"| {size['generated_mean_kb']:.3f} / {size['generated_p99_kb']:.3f} |"
                )
    print(f"\nload average {report['machine']['load_average']}")


if __name__ == "__main__":
    main()
