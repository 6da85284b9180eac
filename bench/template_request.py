"""CPU per request of a templated GetItem step (`op: GetItem` with a zipfian pick) vs the hard-coded `walk_ring` GetItem.

    .venv/bin/python -m bench.template_request                  # 5 rounds of 3 s per case, ~1.5 min
    .venv/bin/python -m bench.template_request --rounds 15 --cases walk_ring templated

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
                     distribution: zipfian}}`: each request draws an index and regenerates the
                     fields its request reads
  templated_keys     the same with an entity of key attributes only (what the other attributes cost a pick)
  templated_repeat   `templated` with `repeat: 100`: 100 GetItems per task run, as walk_ring does a lap

Each case has its own driver process pinned to CPU 0 (the null endpoint is pinned to CPU 1),
started once and warmed up; it then measures on command, blocking on stdin in between so it takes
no CPU while another case measures. A measurement starts the user (Locust's local runner), lets it
settle, measures the process's CPU time (user + system) per request over a window and stops it.
A round measures every case once, the order rotating between rounds, so the cases alternate a few
seconds apart on the same machine state; ratios are taken within each round, and every number
reported is the median over rounds. Then, in one more process, the templated path's per-request
pieces are timed with timeit without Locust or a socket (chooser draw, Catalog.fields_at, the whole
bind, Request.build, Request.send on a stub client). Writes bench/results/template_request.json
and prints Markdown tables.
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
from bench.workloads import TABLE, measurement, pin_to

REGION = "us-east-1"
ITEMS = 100_000
ENTITY = "user"
BASELINE = "walk_ring"
ONE_STEP = "walk_ring_steps_1"
"""The second baseline: walk_ring paying Locust's task loop once per GetItem, as an `op:` step does."""

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
    - {name: get_user, op: GetItem, table: bench, pick: {entity: user, distribution: zipfian}%s}
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
    "templated": _TEMPLATE_TABLE + _USER_EXTRA + _GET_USER % "" + _COMMON,
    "templated_keys": _TEMPLATE_TABLE + _GET_USER % "" + _COMMON,
    "templated_repeat": _TEMPLATE_TABLE + _USER_EXTRA + _GET_USER % ", repeat: 100" + _COMMON,
}
"""Scenario YAML per case; every table is called `bench`, which the null endpoint's answers name."""
DESCRIPTIONS = {
    "walk_ring": "walk_ring task, ring of 100,000 (a lap per task run)",
    "walk_ring_steps_1": "walk_ring task, steps: 1 (one GetItem per task run)",
    "templated": "op: GetItem, zipfian pick of `user` (6 attributes, faker + text)",
    "templated_keys": "op: GetItem, zipfian pick of `user` (key attributes only)",
    "templated_repeat": "op: GetItem as `templated`, repeat: 100 (100 GetItems per task run, as a lap is many)",
}
TEMPLATED = ("templated", "templated_keys", "templated_repeat")


def scenario_of(case: str):
    """The case's scenario, validated and cross-checked as `ddb-harness run` reads a file."""
    from harness.scenario import parse_scenario

    return parse_scenario(SCENARIOS[case], Path(f"{case}.yaml"))


# ---- one case under Locust (runs in its own process) ------------------------------------------


def drive(case: str, endpoint: str, warmup: float) -> None:
    """Serve measurements of the case's mix with one Locust user; commands on stdin, JSON lines on stdout.

    `measure SETTLE SECONDS` starts the user, lets it run SETTLE seconds, measures this process's CPU
    per request over SECONDS and stops it (Locust's local runner restarts cleanly); `quit` ends.
    Between measurements the process blocks on stdin, so it takes no CPU while another case measures.
    """
    import gevent
    import locust  # noqa: F401  (first: gevent's monkey-patching)
    from locust.env import Environment

    from bench.locust_driver import measure_window
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

    def measure(settle: float, seconds: float) -> dict:
        started = time.perf_counter()
        runner.start(users, spawn_rate=100)
        gevent.sleep(settle)
        count, failed, window, cpu = measure_window(environment, seconds)
        stats = environment.stats.total
        runner.stop()
        return measurement(case, "GetItem", users, count, failed, window, cpu, stats.num_requests, time.perf_counter() - started)

    measure(warmup, 0.1)  # connections, the zipfian zeta sum, Faker's import, the first template compiles
    print("READY", flush=True)
    for line in sys.stdin:  # blocks the whole process (gevent does not patch stdin): no CPU while idle
        command, *numbers = line.split()
        if command == "quit":
            break
        print(json.dumps(measure(*map(float, numbers))), flush=True)
    runner.quit()


class CaseProcess:
    """One case's driver process, pinned to the client CPU, started once and measured many times."""

    def __init__(self, case: str, url: str, warmup: float):
        command = [sys.executable, "-m", "bench.template_request", "--drive", case, "--endpoint", url, "--warmup", str(warmup)]
        self.case = case
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
        self._expect("READY")

    def measure(self, settle: float, seconds: float) -> dict:
        """One measurement window; the driver's JSON line."""
        self.process.stdin.write(f"measure {settle} {seconds}\n")
        self.process.stdin.flush()
        return json.loads(self._expect("{"))

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def _expect(self, prefix: str) -> str:
        for line in self.process.stdout:
            if line.startswith(prefix):
                return line
        raise RuntimeError(f"the {self.case} driver ended (exit code {self.process.wait()}): see its stderr above")


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

    from harness.ops.ring import get_ring_item

    out = {case: template_pieces(case, number, repeat) for case in TEMPLATED}
    ring_client = StubClient(CANNED_RING_GET)
    out[BASELINE] = {"send_stub": per_call(lambda: get_ring_item(ring_client, TABLE, "key#1"), number, repeat)}
    return out


def template_pieces(case: str, number: int, repeat: int) -> dict[str, float]:
    """The pieces of one templated case, each built as operation_task builds it."""
    import random
    from types import SimpleNamespace

    from harness.datasets.distributions import make_chooser
    from harness.ops.build import compile_request
    from harness.run.partition import Partition
    from harness.workload.operations import Catalog, binder, wanted_fields

    scenario = scenario_of(case)
    step = scenario.workload.mix[0]
    pick = step.pick
    catalog, request = Catalog(scenario), compile_request(step, scenario)
    rng = random.Random(1)
    user = SimpleNamespace(rng=rng, ordinal=0, harness=SimpleNamespace(partition=Partition()))
    bind, wanted = binder(step, TABLE, catalog, scenario), wanted_fields(step, scenario)
    # the same chooser _picker makes; positions drawn beforehand so fields_at is timed alone
    chooser = make_chooser(pick.distribution, theta=pick.theta, hot_data_fraction=pick.hot_data_fraction, hot_op_fraction=pick.hot_op_fraction)
    positions = [chooser.next_index(rng, ITEMS) for _ in range(number)]
    cursor = iter(range(10**12))
    items = catalog.items(TABLE)
    fields = catalog.fields_at(TABLE, ENTITY, positions[0], wanted)
    built = request.build(fields, lambda: fields)
    client = StubClient(CANNED_GET)
    return {
        "chooser_draw": per_call(lambda: chooser.next_index(rng, catalog.pickable(TABLE, ENTITY)), number, repeat),
        "fields_at": per_call(lambda: catalog.fields_at(TABLE, ENTITY, positions[next(cursor) % number], wanted), number, repeat),
        "fields_at_every_field": per_call(lambda: items.item_fields_at(ENTITY, positions[next(cursor) % number]), number, repeat),
        "bind": per_call(lambda: bind(user, []), number, repeat),
        "build": per_call(lambda: request.build(fields, lambda: fields), number, repeat),
        "send_stub": per_call(lambda: request.send(client, built), number, repeat),
    }


def per_call(statement, number: int, repeat: int) -> float:
    """µs per call of `statement`: the median of `repeat` timeit runs of `number` calls."""
    return statistics.median(timeit.repeat(statement, number=number, repeat=repeat)) / number * 1e6


def run_pieces(number: int, repeat: int) -> dict:
    command = [sys.executable, "-m", "bench.template_request", "--pieces", "--number", str(number), "--repeat", str(repeat)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"pieces failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def code_version() -> dict:
    """The commit measured, and whether harness/ had changes on top of it."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "harness"], capture_output=True, text=True, cwd=REPO).stdout.strip()
    return {"commit": head, "harness_changed": bool(dirty)}


# ---- summary --------------------------------------------------------------------------------------


def round_ratios(runs: list[dict], case: str, baseline: str) -> list[float]:
    """CPU per request of `case` over `baseline`'s, one ratio per round that measured both."""
    ratios = []
    for sample in (r for r in runs if r["driver"] == case):
        base = next((r for r in runs if r["driver"] == baseline and r["round"] == sample["round"]), None)
        if base:
            ratios.append(sample["cpu_us_per_req"] / base["cpu_us_per_req"])
    return ratios


def summarize(runs: list[dict], cases: list[str]) -> list[dict]:
    """Median over rounds per case; the ratios to walk_ring (and to walk_ring steps: 1) taken within each round."""
    rows = []
    for case in cases:
        samples = [r for r in runs if r["driver"] == case]
        ratios, one_step = round_ratios(runs, case, BASELINE), round_ratios(runs, case, ONE_STEP)
        rows.append(
            {
                "case": case, "what": DESCRIPTIONS[case], "rounds": len(samples),
                "req_per_s": statistics.median(s["req_per_s"] for s in samples),
                "cpu_us_per_req": statistics.median(s["cpu_us_per_req"] for s in samples),
                "round_cpu_us_per_req": [s["cpu_us_per_req"] for s in samples],
                "ratio_to_walk_ring": statistics.median(ratios) if ratios else None,
                "round_ratios": [round(r, 3) for r in ratios],
                "ratio_to_walk_ring_steps_1": statistics.median(one_step) if one_step else None,
                "failures": sum(s["failures"] for s in samples),
            }
        )  # fmt: skip
    return rows


def markdown(rows: list[dict], parts: dict | None) -> str:
    lines = [
        "| case | what | req/s (wall) | CPU µs/req | × walk_ring (median of rounds) | round ratios | × walk_ring steps: 1 | failures |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for row in rows:
        ratio, one_step = (f"{row[key]:.2f}" if row[key] is not None else "-" for key in ("ratio_to_walk_ring", "ratio_to_walk_ring_steps_1"))
        rounds = ", ".join(f"{r:.2f}" for r in row["round_ratios"]) if row["case"] != BASELINE else ""
        lines.append(
            f"| {row['case']} | {row['what']} | {row['req_per_s']:,.0f} | {row['cpu_us_per_req']:,.0f} | {ratio} | {rounds} | {one_step} | {row['failures']} |"
        )
    if parts:
        lines += [
            "",
            "| piece (µs per call, no Locust, no socket) | templated | templated_keys | walk_ring |",
            "| --- | ---: | ---: | ---: |",
        ]
        names = {
            "chooser_draw": "zipfian draw (`next_index` over `Catalog.pickable`)",
            "fields_at": "`Catalog.fields_at` (regenerate the fields the request reads)",
            "fields_at_every_field": "for reference: every field of the item (`item_fields_at`, `only=None`)",
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
    parser.add_argument("--seconds", type=float, default=3.0, help="measurement window")
    parser.add_argument("--settle", type=float, default=0.5, help="seconds each window's user runs before it is measured")
    parser.add_argument("--warmup", type=float, default=1.5, help="unmeasured run of each driver process at its start")
    parser.add_argument("--number", type=int, default=20_000, help="calls per timeit repeat of the pieces")
    parser.add_argument("--repeat", type=int, default=5, help="timeit repeats of the pieces (median taken)")
    parser.add_argument("--no-pieces", action="store_true", help="skip the in-process timing of the pieces")
    parser.add_argument("--drive", choices=list(SCENARIOS), help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--pieces", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        pin_to(CLIENT_CPU)
        drive(args.drive, args.endpoint, args.warmup)
        return
    if args.pieces:
        pin_to(CLIENT_CPU)
        print(json.dumps(pieces(args.number, args.repeat)))
        return
    cases = list(dict.fromkeys([BASELINE, *args.cases]))
    started = datetime.datetime.now(datetime.timezone.utc)
    info = {"started": started.isoformat(timespec="seconds"), "machine": machine(), "code": code_version(), "arguments": vars(args)}
    runs = []
    with null_endpoint() as (url, pid):
        drivers = {}
        try:
            for case in cases:
                drivers[case] = CaseProcess(case, url, args.warmup)
            pin(pid, SERVER_CPU)  # threads it started since
            for round_ in range(args.rounds):
                shift = round_ % len(cases)
                for case in cases[shift:] + cases[:shift]:
                    result = drivers[case].measure(args.settle, args.seconds)
                    result["round"] = round_
                    runs.append(result)
                    print(
                        f"[round {round_ + 1}/{args.rounds}] {case:18s} {result['cpu_us_per_req']:7.1f} CPU µs/req {result['req_per_s']:7.0f} req/s",
                        file=sys.stderr,
                        flush=True,
                    )
        finally:
            for driver in drivers.values():
                driver.close()
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
