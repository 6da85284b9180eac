"""What keeps a long run's master flat (metrics.per_second, metrics.open_model, run.locust_counts): single functions, no server."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tracemalloc

from conftest import REPO

from harness.metrics.open_model import OpenModelRecorder, OpenModelTally
from harness.metrics.per_second import MAX_SPAN_SECONDS, PerSecondSums
from harness.metrics.sums import Sums
from harness.metrics.tally import Tally
from harness.run.locust_counts import KEEP_SECONDS


def random_rows(count: int, seed: int) -> list[list]:
    """Capacity-shaped rows (second, table, index, read, write) with seconds out of order and repeated."""
    rng = random.Random(seed)
    return [[rng.randint(1_000, 1_300), rng.choice("tu"), rng.choice(["", "by_state"]), rng.choice([0.0, 0.5, 1.0]), rng.choice([0.0, 2.0])] for _ in range(count)]


def test_per_second_sums_give_the_rows_sums_give_in_any_order_of_seconds():
    rows = random_rows(5_000, seed=1)
    compact, plain = PerSecondSums(key_width=3), Sums(key_width=3)
    for row in rows:
        compact.add(tuple(row[:3]), *row[3:])
        plain.add(tuple(row[:3]), *row[3:])
    assert compact.rows() == [row for row in plain.rows() if any(row[3:])]  # an all-zero row is no row
    assert compact.first_second() == min(row[0] for row in compact.rows())


def test_per_second_sums_merge_other_processes_rows_and_read_a_window():
    first, second, merged = PerSecondSums(key_width=3), PerSecondSums(key_width=3), Sums(key_width=3)
    for row in random_rows(500, seed=2):
        first.add(tuple(row[:3]), *row[3:])
        merged.add(tuple(row[:3]), *row[3:])
    for row in random_rows(500, seed=3):
        second.add(tuple(row[:3]), *row[3:])
        merged.add(tuple(row[:3]), *row[3:])
    first.add_rows(second.rows())
    expected = [row for row in merged.rows() if any(row[3:])]
    assert first.rows() == expected
    assert first.rows_since(1_250) == [row for row in expected if row[0] >= 1_250]
    totals = first.totals()
    assert totals[("t", "")] == [sum(row[3] for row in expected if row[1:3] == ["t", ""]), sum(row[4] for row in expected if row[1:3] == ["t", ""])]


def test_counts_stay_integers_and_a_second_far_from_the_others_is_kept_apart():
    throttles = PerSecondSums(key_width=5, typecode="q")
    throttles.add((100, "GetItem", "t", "", "TableReadProvisionedThroughputExceeded"), 2)
    throttles.add((100 + MAX_SPAN_SECONDS + 5, "GetItem", "t", "", "TableReadProvisionedThroughputExceeded"), 1)  # a clock far off: no huge array
    throttles.add((90, "GetItem", "t", "", "TableReadProvisionedThroughputExceeded"), 1)
    assert throttles.rows() == [
        [90, "GetItem", "t", "", "TableReadProvisionedThroughputExceeded", 1],
        [100, "GetItem", "t", "", "TableReadProvisionedThroughputExceeded", 2],
        [100 + MAX_SPAN_SECONDS + 5, "GetItem", "t", "", "TableReadProvisionedThroughputExceeded", 1],
    ]
    assert all(isinstance(row[-1], int) for row in throttles.rows())
    assert throttles.totals() == {("GetItem", "t", "", "TableReadProvisionedThroughputExceeded"): [4]}
    assert throttles.first_second() == 90 and throttles and not PerSecondSums(key_width=3)


def two_hours_traced_bytes(store, rows_of_second) -> int:
    """Bytes `store` holds after two hours of rows, `rows_of_second(second)` giving each second's (key, values) pairs."""
    tracemalloc.start()
    for second in range(1_700_000_000, 1_700_000_000 + 7_200):
        for key, values in rows_of_second(second):
            store.add(key, *values)
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return size


def test_two_hours_of_capacity_rows_cost_a_small_share_of_what_dict_rows_cost():
    def capacity(second):
        return [((second, table, ""), (1.5, 0.5)) for table in ("t", "u")]

    compact, plain = two_hours_traced_bytes(PerSecondSums(key_width=3), capacity), two_hours_traced_bytes(Sums(key_width=3), capacity)
    assert compact * 10 < plain, (compact, plain)


def test_a_tallys_per_second_rows_travel_and_merge_as_before():
    worker, master = Tally(), Tally()
    worker.capacity.add((1_000, "t", ""), 1.0, 0.0)
    worker.throttles.add((1_000, "GetItem", "t", "", "TableReadProvisionedThroughputExceeded"), 3)
    master.capacity.add((999, "t", ""), 0.5, 0.0)
    master.add_wire(worker.to_wire())
    assert master.capacity.rows() == [[999, "t", "", 0.5, 0.0], [1_000, "t", "", 1.0, 0.0]]
    assert master.throttles.rows() == [[1_000, "GetItem", "t", "", "TableReadProvisionedThroughputExceeded", 3]]


def test_open_model_starts_merge_into_the_schedule_rows_and_hours_of_them_stay_small():
    first, second, master = OpenModelRecorder(), OpenModelRecorder(), OpenModelTally()
    for recorder, lags in ((first, [0.5, 25.0]), (second, [40.0])):
        for lag in lags:
            recorder.intended(1_000)
            recorder.started(1_000, lag)
        recorder.intended(1_001)
    for recorder in (first, second):
        master.add_wire(recorder.take().to_wire())
    assert master.schedule_rows() == [[1_000, 3, 3, 2, 40.0], [1_001, 2, 0, 0, 0.0]]
    totals = master.totals()
    assert (totals["intended_starts"], totals["starts"], totals["late_starts"], totals["worst_lag_ms"]) == (5, 3, 2, 40.0)
    assert all(isinstance(value, int) for row in master.schedule_rows() for value in row[:4])

    def starts(second):
        return [((second,), (100, 100, 1))]

    compact, plain = two_hours_traced_bytes(OpenModelTally().per_second, starts), two_hours_traced_bytes(Sums(key_width=1), starts)
    assert compact * 5 < plain, (compact, plain)


# In a child process: importing locust monkey-patches the interpreter, which the other tests must not inherit.
LOCUST_COUNTS_CHECK = """
import json
from locust.stats import RequestStats
from harness.run.locust_counts import drop_old_seconds

stats = RequestStats()
entry = stats.get("walk_ring", "GetItem")
now = 1_700_000_000
for second in range(now - 3_600, now + 1):  # an hour of seconds, as a master merges them from workers
    entry.num_reqs_per_sec[second] += 10
    entry.num_fail_per_sec[second] += 1
    stats.total.num_reqs_per_sec[second] += 10
entry.num_requests = stats.total.num_requests = 36_010
for one in (entry, stats.total):
    one.start_time, one.last_request_timestamp = now - 3_600, now + 0.5
rates = lambda: [entry.current_rps, entry.current_fail_per_sec, stats.total.current_rps, entry.total_rps]
before = rates()
dropped = drop_old_seconds(stats, now)
print(json.dumps({"now": now, "dropped": dropped, "before": before, "after": rates(),
                  "requests": sorted(entry.num_reqs_per_sec), "failures": sorted(entry.num_fail_per_sec), "total": sorted(stats.total.num_reqs_per_sec)}))
"""


def test_locusts_per_second_counts_keep_only_the_last_minute_and_its_rates_are_unchanged():
    done = subprocess.run([sys.executable, "-c", LOCUST_COUNTS_CHECK], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout)
    kept = list(range(found["now"] - KEEP_SECONDS, found["now"] + 1))
    assert found["dropped"] == 3 * (3_601 - len(kept))
    assert found["requests"] == found["failures"] == found["total"] == kept
    assert found["after"] == found["before"] and found["before"][0] == 10.0
