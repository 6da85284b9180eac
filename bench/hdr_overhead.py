"""HDR latency recording overhead per request, in microseconds (a benchmark, not a test).

    .venv/bin/python bench/hdr_overhead.py [--records 200000] [--runs 7]

Times three things over the same response times (a log-normal spread around 10 ms):
  hdr record:       LatencyHistograms.record alone (the HDR histogram update)
  request listener: Recorder.on_request, everything the harness adds to one Locust request event
  baseline:         an empty listener call with the same arguments (what any listener costs)
and prints the median of the runs, in microseconds per record.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from harness.metrics.latency import LatencyHistograms
from harness.metrics.recorder import Recorder

KEY = ("GetItem", "walk_ring")
CONTEXT = {"outcome": "ok", "calls": 1, "retry_attempts": 0, "consumed_capacity": []}


def response_times(count: int, seed: int = 7) -> list[float]:
    """Response times in ms: log-normal around 10 ms, like a loaded local endpoint."""
    rng = random.Random(seed)
    return [rng.lognormvariate(2.3, 0.6) for _ in range(count)]


def per_record_us(function, times: list[float]) -> float:
    """Microseconds per call of function(ms) over all times."""
    start = time.perf_counter()
    for value in times:
        function(value)
    return (time.perf_counter() - start) / len(times) * 1e6


def hdr_record(times: list[float]) -> float:
    histograms = LatencyHistograms()
    return per_record_us(lambda ms: histograms.record(KEY, ms), times)


def request_listener(times: list[float]) -> float:
    recorder = Recorder()
    return per_record_us(lambda ms: recorder.on_request(request_type="GetItem", name="walk_ring", response_time=ms, response_length=100, response=None, exception=None, context=CONTEXT), times)


def baseline(times: list[float]) -> float:
    def listener(request_type, name, response_time, exception=None, context=None, **_):
        return None

    return per_record_us(lambda ms: listener(request_type="GetItem", name="walk_ring", response_time=ms, response_length=100, response=None, exception=None, context=CONTEXT), times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    times = response_times(args.records)
    for label, measure in (("hdr record", hdr_record), ("request listener", request_listener), ("baseline", baseline)):
        runs = [measure(times) for _ in range(args.runs)]
        print(f"{label:17s} {statistics.median(runs):6.2f} us/record  (median of {args.runs} runs of {args.records}; min {min(runs):.2f}, max {max(runs):.2f})")


if __name__ == "__main__":
    main()
