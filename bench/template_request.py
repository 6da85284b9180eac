"""CPU per request of a templated GetItem step (`op: GetItem` with a zipfian pick) vs the hard-coded `walk_ring` GetItem.

    .venv/bin/python -m bench.template_request                  # 5 rounds of 4 s per case, ~3 min
    .venv/bin/python -m bench.template_request --rounds 3 --cases walk_ring templated

Every case is a real scenario (YAML text below, read by `parse_scenario`) whose mix runs through
`ScenarioUser.configure` / `weighted_tasks` as a run does, under Locust used as a library (as in
bench/locust_driver.py, driver c: `Environment` + local runner, 1 user, wait_time 0, the fast
client, Locust's stats and the harness's metrics hooks installed), against the null endpoint
(bench/null_endpoint.py), whose canned GetItem answer serves every case:

  walk_ring          a ring of 100,000 items, `{task: walk_ring}`: one Locust task run walks a lap
                     (the null endpoint's answer names `key#1` as the next key, so a lap never closes
                     and no Lap row is fired; a real lap fires one every 100,000 GetItems)
  walk_ring_steps_1  the same with `steps: 1`: one GetItem per Locust task run, as an `op:` step has
  templated          a template entity `user` of 100,000 items (sequence, two format strings, faker
                     name, 200-character text, integer) and `{op: GetItem, pick: {entity: user,
                     distribution: zipfian}}`: each request draws an index and regenerates the item
  templated_keys     the same with an entity of key attributes only (what rendering the rest costs)

Each case runs in a fresh process pinned to CPU 0 (the null endpoint is pinned to CPU 1), warms up,
then measures its own CPU time (user + system) per request over a window. A round runs every case
once, the order rotating between rounds; ratios to walk_ring are taken within each round, and
every number reported is the median over rounds. Then, in one more process, the templated path's
per-request pieces are timed with timeit without Locust or a socket (chooser draw,
Catalog.fields_at, the whole bind, Request.build, Request.send on a stub client). Writes
bench/results/template_request.json and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path

from bench.run import CLIENT_CPU, REPO, RESULTS, SERVER_CPU, machine, null_endpoint, pin
from bench.workloads import TABLE, cpu_seconds, measurement, pin_to

REGION = "us-east-1"
ITEMS = 100_000
ENTITY = "user"
BASELINE = "walk_ring"

_COMMON = """
client: {kind: fast}
load: {users: 1, wait_time: {constant: 0}}
"""
_TEMPLATE_TABLE = """
tables:
  - name: bench
    attributes: {pk: S, sk: S}
    key: {hash: pk, range: sk}
    dataset:
      model: template
      load: never
      seed: 7
      entities:
        - name: user
          count: 100000
          attributes:
            _user_id: {sequence: {start: 1}}
            pk: "USER#{_user_id}"
            sk: PROFILE
"""
_USER_EXTRA = """\
            name: {faker: name}
            bio: {text: {length: 200}}
            followers: {integer: {min: 0, max: 5000}}
"""
_GET_USER = """
workload:
  mix:
    - {name: get_user, op: GetItem, table: bench, pick: {entity: user, distribution: zipfian}}
"""
_RING = """
tables:
  - name: bench
    attributes: {primary_key: S}
    key: {hash: primary_key}
    dataset: {model: ring, size: 100000, load: never}
workload:
  mix:
    - {task: walk_ring, table: bench%s}
"""
SCENARIOS = {
    "walk_ring": _RING % "" + _COMMON,
    "walk_ring_steps_1": _RING % ", steps: 1" + _COMMON,
    "templated": _TEMPLATE_TABLE + _USER_EXTRA + _GET_USER + _COMMON,
    "templated_keys": _TEMPLATE_TABLE + _GET_USER + _COMMON,
}
"""Scenario YAML per case; every table is called `bench`, which the null endpoint's answers name."""
DESCRIPTIONS = {
    "walk_ring": "walk_ring task, ring of 100,000 (a lap per task run)",
    "walk_ring_steps_1": "walk_ring task, steps: 1 (one GetItem per task run)",
    "templated": "op: GetItem, zipfian pick of `user` (6 attributes, faker + text)",
    "templated_keys": "op: GetItem, zipfian pick of `user` (key attributes only)",
}
TEMPLATED = ("templated", "templated_keys")


def scenario_of(case: str):
    """The case's scenario, validated and cross-checked as `ddb-harness run` reads a file."""
    from harness.scenario import parse_scenario

    return parse_scenario(SCENARIOS[case], Path(f"{case}.yaml"))


# ---- one case under Locust (runs in its own process) ------------------------------------------


def drive(case: str, endpoint: str, seconds: float, warmup: float) -> dict:
    """Run the case's mix with one Locust user: warm up, measure CPU per request over `seconds`, stop."""
    import locust  # noqa: F401  (first: gevent's monkey-patching)

    import gevent
    from locust.env import Environment

    from harness.metrics.locust_hooks import install as install_metrics
    from harness.run.locust_plugin import RunContext, ring_keys_of
    from harness.scenario import max_fan_out
    from harness.target.client import Connection
    from harness.workload.tasks import ScenarioUser

    class BenchUser(ScenarioUser):
        """Every step of the case's mix, as locustfiles/scenario.py's MixUser."""

    scenario = scenario_of(case)
    BenchUser.configure(scenario)
    connection = Connection(REGION, endpoint)
    environment = Environment(user_classes=[BenchUser])
    users = scenario.load.users
    environment.harness_run = RunContext(scenario, connection, pool_size=max(users * max_fan_out(scenario), 10), ring_keys=ring_keys_of(scenario))
    runner = environment.create_local_runner()
    install_metrics(environment, runner, environment.harness_run.client(), scenario, connection)
    started = time.perf_counter()
    runner.start(users, spawn_rate=100)
    gevent.sleep(warmup)
    stats = environment.stats.total
    requests, failures = stats.num_requests, stats.num_failures
    cpu_start, window_start = cpu_seconds(), time.perf_counter()
    gevent.sleep(seconds)
    window, cpu = time.perf_counter() - window_start, cpu_seconds() - cpu_start
    count, failed = stats.num_requests - requests, stats.num_failures - failures
    runner.quit()
    return measurement(case, "GetItem", users, count, failed, window, cpu, stats.num_requests, time.perf_counter() - started)


def run_case(case: str, url: str, seconds: float, warmup: float, server_pid: int) -> dict:
    """One case in a fresh process pinned to the client CPU; its JSON line."""
    command = [sys.executable, "-m", "bench.template_request", "--drive", case, "--endpoint", url, "--seconds", str(seconds), "--warmup", str(warmup)]
    pin(server_pid, SERVER_CPU)  # threads it started since
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=seconds + warmup + 120)
    if done.returncode != 0:
        raise RuntimeError(f"{case} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- the templated path's pieces, no Locust, no socket (runs in its own process) ----------------

CANNED_GET = {
    "Item": {"pk": {"S": "USER#1"}, "sk": {"S": "PROFILE"}, "name": {"S": "Sydney Guzman"}, "followers": {"N": "4586"}},
    "ConsumedCapacity": {"TableName": TABLE, "CapacityUnits": 0.5},
    "ResponseMetadata": {"RequestId": "r", "HTTPStatusCode": 200, "HTTPHeaders": {"content-length": "200"}, "RetryAttempts": 0},
}
CANNED_RING_GET = {**CANNED_GET, "Item": {"primary_key": {"S": "key#1"}, "next_primary_key": {"S": "key#1"}}}


class StubClient:
    """Answers GetItem at once with a canned response shaped like the fast client's."""

    def __init__(self, answer: dict):
        self.answer = answer

    def get_item(self, **request) -> dict:
        return self.answer


def pieces(number: int, repeat: int) -> dict:
    """µs per call of each per-request piece of a templated GetItem step (and of walk_ring's op), median of `repeat`."""
    import locust  # noqa: F401  (harness.workload imports Locust: patch first, as a run does)

    import random
    from types import SimpleNamespace

    from harness.datasets.distributions import make_chooser
    from harness.ops.build import compile_request
    from harness.ops.ring import get_ring_item
    from harness.run.partition import Partition
    from harness.workload.operations import Catalog, binder

    def per_call(statement) -> float:
        return statistics.median(timeit.repeat(statement, number=number, repeat=repeat)) / number * 1e6

    out: dict[str, dict[str, float]] = {}
    for case in TEMPLATED:
        scenario = scenario_of(case)
        step = scenario.workload.mix[0]
        pick = step.pick
        catalog, request = Catalog(scenario), compile_request(step, scenario)
        rng = random.Random(1)
        user = SimpleNamespace(rng=rng, ordinal=0, harness=SimpleNamespace(partition=Partition()))
        bind = binder(step, TABLE, catalog)
        # the same chooser _picker makes; positions drawn beforehand so fields_at is timed alone
        chooser = make_chooser(pick.distribution, theta=pick.theta, hot_data_fraction=pick.hot_data_fraction, hot_op_fraction=pick.hot_op_fraction)
        positions = [chooser.next_index(rng, ITEMS) for _ in range(number)]
        cursor = iter(range(10**12))
        fields = catalog.fields_at(TABLE, ENTITY, positions[0])
        built = request.build(fields, lambda: fields)
        client = StubClient(CANNED_GET)
        out[case] = {
            "chooser_draw": per_call(lambda: chooser.next_index(rng, catalog.pickable(TABLE, ENTITY))),
            "fields_at": per_call(lambda: catalog.fields_at(TABLE, ENTITY, positions[next(cursor) % number])),
            "bind": per_call(lambda: bind(user, [])),
            "build": per_call(lambda: request.build(fields, lambda: fields)),
            "send_stub": per_call(lambda: request.send(client, built)),
        }
    ring_client = StubClient(CANNED_RING_GET)
    out["walk_ring"] = {"send_stub": per_call(lambda: get_ring_item(ring_client, TABLE, "key#1"))}
    return out


def run_pieces(number: int, repeat: int) -> dict:
    command = [sys.executable, "-m", "bench.template_request", "--pieces", "--number", str(number), "--repeat", str(repeat)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"pieces failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- summary --------------------------------------------------------------------------------------


def summarize(runs: list[dict], cases: list[str]) -> list[dict]:
    """Median over rounds per case; the ratio to walk_ring taken within each round."""
    rows = []
    for case in cases:
        samples = [r for r in runs if r["driver"] == case]
        ratios = []
        for sample in samples:
            base = next((r for r in runs if r["driver"] == BASELINE and r["round"] == sample["round"]), None)
            if base:
                ratios.append(sample["cpu_us_per_req"] / base["cpu_us_per_req"])
        rows.append(
            {
                "case": case, "what": DESCRIPTIONS[case], "rounds": len(samples),
                "req_per_s": statistics.median(s["req_per_s"] for s in samples),
                "cpu_us_per_req": statistics.median(s["cpu_us_per_req"] for s in samples),
                "round_cpu_us_per_req": [s["cpu_us_per_req"] for s in samples],
                "ratio_to_walk_ring": statistics.median(ratios) if ratios else None,
                "round_ratios": [round(r, 3) for r in ratios],
                "failures": sum(s["failures"] for s in samples),
            }
        )  # fmt: skip
    return rows


def markdown(rows: list[dict], parts: dict | None) -> str:
    lines = [
        "| case | what | req/s (wall) | CPU µs/req | × walk_ring (median of rounds) | round ratios | failures |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: |",
    ]
    for row in rows:
        ratio = f"{row['ratio_to_walk_ring']:.2f}" if row["ratio_to_walk_ring"] is not None else "-"
        rounds = ", ".join(f"{r:.2f}" for r in row["round_ratios"]) if row["case"] != BASELINE else ""
        lines.append(f"| {row['case']} | {row['what']} | {row['req_per_s']:,.0f} | {row['cpu_us_per_req']:,.0f} | {ratio} | {rounds} | {row['failures']} |")
    if parts:
        lines += [
            "",
            "| piece (µs per call, no Locust, no socket) | templated | templated_keys | walk_ring |",
            "| --- | ---: | ---: | ---: |",
        ]
        names = {
            "chooser_draw": "zipfian draw (`next_index` over `Catalog.pickable`)",
            "fields_at": "`Catalog.fields_at` (regenerate the picked item's fields)",
            "bind": "the whole bind (draw + fields_at + merging in `run.user`)",
            "build": "`Request.build` (the GetItem request)",
            "send_stub": "`Request.send` / `get_ring_item` on a stub client (the op layer)",
        }
        for key, label in names.items():
            cells = [parts.get(case, {}).get(key) for case in ("templated", "templated_keys", "walk_ring")]
            lines.append(f"| {label} | " + " | ".join("" if cell is None else f"{cell:.2f}" for cell in cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=list(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--warmup", type=float, default=1.5)
    parser.add_argument("--number", type=int, default=20_000, help="calls per timeit repeat of the pieces")
    parser.add_argument("--repeat", type=int, default=5, help="timeit repeats of the pieces (median taken)")
    parser.add_argument("--no-pieces", action="store_true", help="skip the in-process timing of the pieces")
    parser.add_argument("--drive", choices=list(SCENARIOS), help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--pieces", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        pin_to(CLIENT_CPU)
        print(json.dumps(drive(args.drive, args.endpoint, args.seconds, args.warmup)))
        return
    if args.pieces:
        pin_to(CLIENT_CPU)
        print(json.dumps(pieces(args.number, args.repeat)))
        return
    cases = list(dict.fromkeys([BASELINE, *args.cases]))
    started = datetime.datetime.now(datetime.timezone.utc)
    info = {"started": started.isoformat(timespec="seconds"), "machine": machine(), "arguments": vars(args)}
    runs = []
    with null_endpoint() as (url, pid):
        for round_ in range(args.rounds):
            shift = round_ % len(cases)
            for case in cases[shift:] + cases[:shift]:
                result = run_case(case, url, args.seconds, args.warmup, pid)
                result["round"] = round_
                runs.append(result)
                print(f"[round {round_ + 1}/{args.rounds}] {case:18s} {result['cpu_us_per_req']:7.1f} CPU µs/req {result['req_per_s']:7.0f} req/s", file=sys.stderr, flush=True)
    parts = None if args.no_pieces else run_pieces(args.number, args.repeat)
    info["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    info["machine"]["load_average_end"] = machine()["load_average"]
    rows = summarize(runs, cases)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "template_request.json"
    path.write_text(json.dumps({**info, "summary": rows, "pieces_us": parts, "runs": runs}, indent=1))
    print(markdown(rows, parts))
    print(f"\nmedians of {args.rounds} rounds; written to {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
