"""What the report says, section by section, from an Analysis: the one place its wording lives."""

from __future__ import annotations

from datetime import datetime, timezone

from harness.metrics import results_files as files
from harness.report import fmt, operations, plots
from harness.report.analysis import Analysis
from harness.report.capacity import ESTIMATED_NOTE, REPORTED
from harness.report.document import Block, Document, Image, Section, table
from harness.report.latency import ALL_REQUESTS, HARNESS, LABELS, PERCENTILES, locust_differs
from harness.report.throttling import retry_policy

COMPOSITE_MARK = "†"
COMPOSITE_NOTE = (
    f"{COMPOSITE_MARK} Lap and Chain: composite rows (one lap of the ring = its GetItem requests; one chain = its operations,"
    " each already counted in its own row); shown, never added into totals."
)


def document(analysis: Analysis, images: dict[str, str]) -> Document:
    """The whole report; `images` maps plot names (plots.*_PNG) to the files that were drawn."""
    sections = [
        Section("At a glance", _glance(analysis)),
        Section("Thresholds", _thresholds(analysis)),
        Section("Requests", _requests(analysis, images)),
        Section("Latency (ms)", _latency(analysis, images)),
        *_open_model_sections(analysis, images),
        Section("Read efficiency", _reads(analysis)),
        Section("Throttling", _throttling(analysis, images)),
        Section("Hot keys", _hot_keys(analysis, images)),
        Section("Consumed capacity", _capacity(analysis, images)),
        Section("Cost estimate", _cost(analysis)),
        Section("Data sources and notes", _notes(analysis)),
    ]
    info = analysis.data.info
    return Document(f"Run report: {info.scenario or analysis.data.run_id}", _intro(analysis), tuple(sections))


def verdict(analysis: Analysis) -> str:
    """One line: do the thresholds hold?"""
    if not analysis.thresholds:
        if analysis.data.info.scenario_readable:
            return "No thresholds declared in the scenario."
        return "Thresholds not checked: scenario.yaml is missing or does not validate."
    broken = analysis.broken
    if broken:
        return f"**{len(broken)} of {len(analysis.thresholds)} threshold checks BROKEN** (exit code 3): " + "; ".join(result.describe() for result in broken)
    return f"All {len(analysis.thresholds)} threshold checks hold."


def _intro(analysis: Analysis) -> tuple[Block, ...]:
    info, data = analysis.data.info, analysis.data
    facts = [_target(info)]
    if analysis.seconds:
        facts.append(f"{fmt.seconds(analysis.seconds)} of load")
    users = data.history["users"].max() if len(data.history) else float("nan")
    if users == users and users > 0:
        facts.append(f"up to {fmt.count(users)} users")
    if info.workers:
        lost = f" ({info.lost_workers} lost)" if info.lost_workers else ""
        facts.append(f"{info.workers} worker{'s' if info.workers != 1 else ''}{lost}")
    started = info.start_time if info.start_time is not None else analysis.start
    if started is not None:
        facts.append(f"started {fmt.utc(started)}")
    scenario = f" of scenario **{info.scenario}**" if info.scenario else ""
    line = f"Run `{data.run_id}`{scenario}: {', '.join(fact for fact in facts if fact) or 'no run metadata'}."
    return (line, *_interrupted(info), verdict(analysis), "Every number here is computed from the files in this folder; `ddb-harness report` rebuilds it.")


def _interrupted(info) -> tuple[str, ...]:
    """One line when the run was stopped before its time: what stopped it and when."""
    record = info.interruption
    if not record:
        return ()
    at = record.get("at")
    when = f" at {fmt.utc(at)}" if isinstance(at, (int, float)) else ""
    return (f"**Stopped early**{when}: {record.get('message') or 'no reason recorded'} (exit code {record.get('exit_code')}).",)


def _target(info) -> str:
    """'target endpoint 127.0.0.1:8000 (us-east-1, capacity gate)': the target as used, never credentials."""
    if not info.target_kind:
        return ""
    where = f" {info.target_host}:{info.target_port}" if info.target_host else ""
    extras = [info.region or "region unknown"] + (["capacity gate"] if info.capacity_gate else [])
    return f"target {info.target_kind}{where} ({', '.join(extras)})"


def _glance(analysis: Analysis) -> tuple[Block, ...]:
    totals = analysis.totals
    rows = [
        ["requests (Lap and Chain rows not added)", fmt.count(totals["requests"])],
        ["throughput", f"{fmt.rate(totals['requests_per_s'])} req/s"],
        ["failures other than throttling", f"{fmt.count(totals['other_failures'])} ({fmt.percent(_share(totals['other_failures'], totals['requests']))})"],
        ["throttled requests (failed after SDK retries)", f"{fmt.count(totals['throttled_requests'])} ({fmt.percent(totals['throttle_ratio'])})"],
    ]
    throttles = analysis.throttles
    if len(throttles) and throttles["attempts"].notna().any():
        attempts, throttled = throttles["attempts"].sum(), throttles["throttled_attempts"].sum()
        rows.append(["throttled HTTP attempts (retried ones included)", f"{fmt.count(throttled)} of {fmt.count(attempts)} ({fmt.percent(_share(throttled, attempts))})"])
    rows.append(["SDK retries per request", fmt.ratio(totals["retries_per_request"])])
    overall = analysis.latency[analysis.latency["type"] == ""]
    if len(overall):
        row = overall.iloc[0]
        rows.append([f"latency, {row['name']} ({'exact' if row['source'] == HARNESS else 'Locust approx.'})", f"p50 {fmt.ms(row['p50_ms'])} ms · p99 {fmt.ms(row['p99_ms'])} ms · max {fmt.ms(row['max_ms'])} ms"])
    steps = analysis.latency[(analysis.latency["type"] != "") & ~analysis.latency["composite"]].dropna(subset=["p99_ms"])
    if len(steps):
        slowest = steps.loc[steps["p99_ms"].idxmax()]
        rows.append(["slowest step at p99", f"{slowest['name']} ({slowest['type']}): {fmt.ms(slowest['p99_ms'])} ms"])
    utilisation = analysis.capacity.dropna(subset=["peak_read_utilisation", "peak_write_utilisation"], how="all")
    for row in utilisation.itertuples(index=False):
        label = f"{row.table} / {row.index}" if row.index else row.table
        rows.append([f"peak utilisation, {label}", f"read {fmt.percent(row.peak_read_utilisation)} · write {fmt.percent(row.peak_write_utilisation)} of provisioned"])
    cost = analysis.cost
    if cost is not None and cost.run_usd == cost.run_usd:
        rows.append(["estimated cost (estimate, as billed)", f"{fmt.usd(cost.run_usd)} this run · {fmt.usd(cost.per_hour_usd)}/hour · {fmt.usd(cost.per_month_usd)}/month at this rate"])
    elif cost is not None:
        rows.append(["estimated cost (estimate, as billed)", "unknown: consumed capacity was not recorded (see Cost estimate)"])
    return (table(["", "value"], rows),)


def _thresholds(analysis: Analysis) -> tuple[Block, ...]:
    if not analysis.thresholds:
        return (verdict(analysis),)
    rows = [
        [result.step, f"{result.name} ({result.type})" if result.type else result.name, result.metric, fmt.limit(result.metric, result.limit),
         fmt.limit(result.metric, result.value) if result.value is not None else "no requests", "ok" if result.ok else "**BROKEN**"]
        for result in analysis.thresholds
    ]  # fmt: skip
    return (verdict(analysis), table(["threshold step", "checked row", "metric", "limit", "measured", "result"], rows, {"limit", "measured"}))


def _requests(analysis: Analysis, images: dict[str, str]) -> tuple[Block, ...]:
    ops = analysis.operations
    if ops.empty:
        return ("No requests were recorded.",)
    rows = [
        [_type(row), row.name, row.table, row.index, fmt.count(row.requests), fmt.rate(row.requests_per_s), fmt.count(row.other_failures),
         fmt.count(row.throttled_requests), fmt.percent(row.error_ratio), fmt.percent(row.throttle_ratio), fmt.ratio(row.retries_per_request)]
        for row in ops.itertuples(index=False)
    ]  # fmt: skip
    totals = analysis.totals
    rows.append(["**Total**", "", "", "", fmt.count(totals["requests"]), fmt.rate(totals["requests_per_s"]), fmt.count(totals["other_failures"]),
                 fmt.count(totals["throttled_requests"]), fmt.percent(totals["error_ratio"]), fmt.percent(totals["throttle_ratio"]), fmt.ratio(totals["retries_per_request"])])  # fmt: skip
    columns = ["type", "step", "table", "index", "requests", "req/s", "failures (not throttled)", "throttled", "error %", "throttle %", "retries/request"]
    blocks: list[Block] = [
        "req/s is Locust's (requests / time from start to the last request). error % counts every failed request, throttled ones included.",
        table(columns, rows, set(columns[4:])),
    ]
    if ops["composite"].any():
        blocks.append(COMPOSITE_NOTE)
    if len(analysis.failures):
        failure_rows = [[row.type, row.name, row.outcome, f"`{_short(row.error)}`", fmt.count(row.occurrences)] for row in analysis.failures.itertuples(index=False)]
        blocks += ["Failures by error (locust_failures.csv), throttled first:", table(["type", "step", "outcome", "error", "occurrences"], failure_rows, {"occurrences"})]
        blocks += _failure_periods(analysis)
    blocks += _image(images, plots.THROUGHPUT_PNG, "Throughput over time")
    return tuple(blocks)


def _failure_periods(analysis: Analysis) -> list[Block]:
    """When each step's failures began and ended, in seconds since the start (and UTC when the start is known)."""
    periods = operations.failure_periods(analysis.throughput_series)
    if periods.empty:
        return []
    rows = [
        [row.type, row.name, _moment(analysis.start, row.first_second), _moment(analysis.start, row.last_second), fmt.count(row.failing_seconds)]
        for row in periods.itertuples(index=False)
    ]  # fmt: skip
    first = periods.iloc[0]
    lead = f"Failures began {_moment(analysis.start, first.first_second)} into the run ({first['type']} {first['name']}), per Locust's stats history:"
    return [lead, table(["type", "step", "first failure", "last failure", "seconds with failures"], rows, {"seconds with failures"})]


def _moment(start: float | None, second) -> str:
    clock = f" ({datetime.fromtimestamp(start + float(second), timezone.utc):%H:%M:%S} UTC)" if start else ""
    return f"+{float(second):.0f} s{clock}"


def _latency(analysis: Analysis, images: dict[str, str]) -> tuple[Block, ...]:
    frame = analysis.latency
    if frame.empty:
        return ("No latencies were recorded.",)
    rows = []
    for row in frame.to_dict("records"):
        cells = [fmt.ms(row[p]) + _locust_note(p, row) for p in PERCENTILES]
        source = "exact" if row["source"] == HARNESS else "Locust"
        rows.append([_type_of(row), row["name"] if row["name"] != ALL_REQUESTS else f"**{ALL_REQUESTS}**", fmt.count(row["count"]), fmt.ms(row["mean_ms"]), *cells, source])
    columns = ["type", "step", "count", "mean", *(LABELS[p] for p in PERCENTILES), "source"]
    exact = (frame["source"] == HARNESS).any()
    lead = (
        "Exact percentiles from the harness's HDR histograms (3 significant digits); Locust's value follows in brackets where it differs from the exact one rounded Locust's way."
        if exact
        else "Locust's percentiles only (no harness_latency.csv): Locust rounds each response time (whole ms below 100 ms, 2 significant digits above) before computing them."
    )
    blocks: list[Block] = [lead, table(columns, rows, set(columns[2:-1]))]
    if frame["composite"].any():
        blocks.append(f"{COMPOSITE_NOTE} The all-requests row leaves them out where the histograms allow it.")
    blocks += _image(images, plots.LATENCY_PNG, "Latency percentiles over time")
    return tuple(blocks)


def _throttling(analysis: Analysis, images: dict[str, str]) -> tuple[Block, ...]:
    blocks: list[Block] = [retry_policy(analysis.data.info)]
    frame = analysis.throttles
    attempts_known = len(frame) and frame["attempts"].notna().any()
    throttled_attempts = frame["throttled_attempts"].sum() if len(frame) else 0
    if not attempts_known:
        blocks.append(f"HTTP attempts are unknown ({files.HARNESS_ATTEMPTS} is missing): only requests that failed on throttling after retries are counted, from locust_failures.csv.")
    elif throttled_attempts == 0 and analysis.totals["throttled_requests"] == 0:
        blocks.append(f"No throttling: DynamoDB throttled none of the {fmt.count(frame['attempts'].sum())} HTTP attempts.")
    if len(frame):
        rows = [
            [row.operation, row.table, row.index, row.steps, fmt.count(row.attempts), fmt.count(row.throttled_attempts), fmt.percent(row.throttled_share),
             fmt.count(row.throttled_requests), fmt.ratio(row.retries_per_request), fmt.count(row.error_attempts), row.reasons]
            for row in frame.itertuples(index=False)
        ]  # fmt: skip
        columns = ["operation", "table", "index", "steps", "attempts", "throttled attempts", "throttled %", "throttled requests", "retries/request", "other error attempts", "ThrottlingReasons"]
        blocks.append(table(columns, rows, set(columns[4:10])))
        blocks.append("Throttled attempts include those the SDK retried successfully; throttled requests failed after the last attempt. ThrottlingReasons are DynamoDB's (an index in brackets) or the error code when it gave none.")
    blocks += _image(images, plots.THROTTLES_PNG, "Throttled attempts per second")
    return tuple(blocks)



def _reads(analysis: Analysis) -> tuple[Block, ...]:
    frame = analysis.reads
    if analysis.data.reads is None:
        return (f"Unknown: {files.HARNESS_READS} is missing.",)
    if frame.empty:
        return ("No step read Query or Scan pages.",)
    rows = [
        [row.type, row.name, fmt.count(row.requests), fmt.count(row.items_returned), fmt.count(row.items_read), fmt.ratio(row.returned_per_request),
         fmt.ratio(row.read_per_request), fmt.percent(row.returned_share), _aggregate(row)]
        for row in frame.itertuples(index=False)
    ]  # fmt: skip
    columns = ["type", "step", "requests", "items returned (Count)", "items read (ScannedCount)", "returned/request", "read/request", "returned of read", "computed value (min … max)"]
    blocks: list[Block] = [
        "What each Query and Scan step returned against what DynamoDB read to answer it (and bills: reads are billed on items read, "
        "before any filter). A low \"returned of read\" is a filter doing an index's work.",
        table(columns, rows, set(columns[2:8])),
    ]
    if frame["aggregate_requests"].notna().any():
        blocks.append("Computed value: the sum a scan step adds up, or the count a sharded query merges, smallest and largest over the run's requests (one value when every request agreed); check it against your data.")
    return tuple(blocks)


def _aggregate(row) -> str:
    if row.aggregate_requests != row.aggregate_requests or not row.aggregate_requests:
        return ""
    if row.aggregate_min == row.aggregate_max:
        return f"{row.aggregate_min:g} (all {fmt.count(row.aggregate_requests)})"
    return f"{row.aggregate_min:g} … {row.aggregate_max:g} ({fmt.count(row.aggregate_requests)})"


def _hot_keys(analysis: Analysis, images: dict[str, str]) -> tuple[Block, ...]:
    if analysis.data.keys is None:
        return (f"Unknown: {files.HARNESS_KEYS} is missing.",)
    spread = analysis.key_spread
    if spread.empty:
        return ("No request named a partition key (scans only, or no requests).",)
    rows = [
        [_resource(row), fmt.count(row["keys"]), fmt.count(row["attempts"]), f"`{row['hottest_key']}`", fmt.percent(row["hottest_share"]),
         fmt.percent(row["top_1pct_share"]), fmt.count(row["throttled_attempts"]), fmt.count(row["throttled_keys"])]
        for row in spread.to_dict("records")
    ]  # fmt: skip
    columns = ["table / index", "keys used", "attempts", "hottest key", "hottest key's share", "hottest 1% of keys used: share", "throttled attempts", "keys throttled"]
    blocks: list[Block] = [
        "Partition keys per table and GSI, like CloudWatch Contributor Insights: every HTTP attempt (SDK retries included) on the key it named; "
        "a write also counts on each GSI whose key the item carries. A key's units are what DynamoDB reported for the request, shared evenly among the keys it named.",
        table(columns, rows, set(columns[1:3]) | set(columns[4:])),
    ]
    top = analysis.hot_keys
    key_rows = [
        [_resource(row), f"`{row['key']}`", fmt.count(row["attempts"]), fmt.percent(row["share"]), fmt.units(row["read_units"]), fmt.units(row["write_units"]),
         fmt.count(row["throttled_attempts"]), row["reasons"]]
        for row in top.to_dict("records")
    ]  # fmt: skip
    key_columns = ["table / index", "partition key", "attempts", "share", "RCU", "WCU", "throttled attempts", "ThrottlingReasons"]
    blocks += ["The most used keys of each table and index:", table(key_columns, key_rows, set(key_columns[2:7]))]
    blocks += _image(images, plots.HOT_KEYS_PNG, "Accesses by partition key rank")
    return tuple(blocks)


def _capacity(analysis: Analysis, images: dict[str, str]) -> tuple[Block, ...]:
    frame = analysis.capacity
    if frame.empty:
        return ("No table is known for this run and no capacity was recorded.",)
    blocks: list[Block] = []
    if analysis.data.capacity is None:
        blocks.append(f"Consumed capacity is unknown ({files.HARNESS_CAPACITY} is missing); provisioned capacity as declared:")
    else:
        blocks.append("Capacity units DynamoDB reported consumed (ReturnConsumedCapacity=INDEXES); mean per second is over the whole run, peak is the busiest second.")
        if (frame["units_source"] != REPORTED).any():
            blocks.append(ESTIMATED_NOTE)
    for side, units in (("read", "rcu"), ("write", "wcu")):
        rows = [
            [_resource(row), row["billing_mode"], fmt.units(row[f"{side}_units"]), fmt.rate(row[f"mean_{units}_per_s"]), fmt.units(row[f"peak_{units}_per_s"]),
             fmt.units(row[f"provisioned_{units}"]), fmt.percent(row[f"mean_{side}_utilisation"]), fmt.percent(row[f"peak_{side}_utilisation"])]
            for row in frame.to_dict("records")
        ]  # fmt: skip
        label = units.upper()
        columns = ["table / index", "billing", f"{label} consumed", f"mean {label}/s", f"peak {label}/s", f"provisioned {label}", "mean utilisation", "peak utilisation"]
        blocks += [f"**{side.capitalize()}s**", table(columns, rows, set(columns[2:]))]
    blocks += _image(images, plots.CAPACITY_PNG, "Consumed vs provisioned capacity")
    return tuple(blocks)


def _cost(analysis: Analysis) -> tuple[Block, ...]:
    cost = analysis.cost
    disclaimer = (
        "**This is an estimate**, not a bill: request and capacity units only, Standard table class; storage, backups, streams, "
        "global-table replication, data transfer, the free tier and reserved capacity are left out. Projections assume the measured rate holds."
    )
    if cost is None:
        return (disclaimer, analysis.cost_note or "no cost estimate")
    prices = cost.prices
    blocks: list[Block] = [
        disclaimer,
        f"Prices for {prices.region} from the {prices.source}, as of {prices.date} ({prices.file}): on demand {fmt.usd(prices.read_per_million)} per million read request units "
        f"and {fmt.usd(prices.write_per_million)} per million write request units; provisioned {fmt.usd(prices.rcu_hour)} per RCU-hour and {fmt.usd(prices.wcu_hour)} per WCU-hour; "
        f"a month is {prices.hours_per_month:g} hours.",
        f"**This run as billed** (each table at its own billing mode): {fmt.usd(cost.run_usd)}; at the measured rate {fmt.usd(cost.per_hour_usd)} per hour, "
        f"{fmt.usd(cost.per_month_usd)} per month. All on demand: {fmt.usd(cost.on_demand_per_month_usd)}/month; all provisioned: {fmt.usd(cost.provisioned_per_month_usd)}/month.",
    ]
    rows = [
        [_resource(row), row["billed_as"], fmt.units(row["read_units"]), fmt.units(row["write_units"]), fmt.usd(row["on_demand_run_usd"]), fmt.usd(row["on_demand_per_hour_usd"]),
         fmt.usd(row["on_demand_per_month_usd"]), row["provisioned_basis"], fmt.units(row["provisioned_rcu"]), fmt.units(row["provisioned_wcu"]),
         fmt.usd(row["provisioned_run_usd"]), fmt.usd(row["provisioned_per_hour_usd"]), fmt.usd(row["provisioned_per_month_usd"])]
        for row in cost.resources.to_dict("records")
    ]  # fmt: skip
    rows.append(["**Total**", "", "", "", fmt.usd(cost.on_demand_run_usd), fmt.usd(cost.on_demand_per_hour_usd), fmt.usd(cost.on_demand_per_month_usd), "", "", "",
                 fmt.usd(cost.provisioned_run_usd), fmt.usd(cost.provisioned_per_hour_usd), fmt.usd(cost.provisioned_per_month_usd)])  # fmt: skip
    columns = ["table / index", "billed as", "RRU", "WRU", "on-demand run", "on-demand /hour", "on-demand /month", "provisioned at", "RCU", "WCU", "provisioned run", "provisioned /hour", "provisioned /month"]
    blocks.append(table(columns, rows, set(columns[2:7]) | set(columns[8:])))
    blocks.append("On demand bills the units consumed; provisioned bills capacity per hour whether used or not. \"measured peak\" sizes an on-demand table's capacity at its busiest second (at least 1 unit, no headroom, no auto scaling).")
    return tuple(blocks)


def _notes(analysis: Analysis) -> tuple[Block, ...]:
    sources = [
        f"Latency: {'exact (harness_latency.csv)' if (analysis.latency['source'] == HARNESS).any() else 'Locust approximations (locust_stats.csv)'}.",
        "Latency over time: Locust's history (percentiles of its rolling 10 s window).",
        f"Throughput over time: increases of Locust's cumulative counts, spread over the seconds since the previous increase (reporting interval: typically {analysis.throughput_window} s).",
    ]
    if analysis.data.info.workers:
        sources.append(f"Distributed run: {analysis.data.info.workers} workers reported to the master; all numbers are the master's merged totals.")
    return tuple(f"- {line}" for line in sources + list(analysis.notes))


def _image(images: dict[str, str], name: str, alt: str) -> list[Block]:
    return [Image(images[name], alt)] if name in images else []


def _type(row) -> str:
    return f"{row.type} {COMPOSITE_MARK}" if row.composite else row.type


def _type_of(row: dict) -> str:
    return f"{row['type']} {COMPOSITE_MARK}" if row["composite"] else row["type"]


def _resource(row: dict) -> str:
    """'orders' or 'tlog_scan / GSI_1', with '(estimated)' when the harness estimated (some of) its units."""
    label = f"{row['table']} / {row['index']}" if row["index"] else row["table"]
    source = row.get("units_source", REPORTED)
    return label if source == REPORTED else f"{label} ({source})"


def _locust_note(percentile: str, row: dict) -> str:
    if row["source"] != HARNESS or not locust_differs(percentile, row[percentile], row[f"locust_{percentile}"]):
        return ""
    value = row[f"locust_{percentile}"]
    return f" (Locust: {fmt.count(value) if float(value).is_integer() else fmt.ms(value)})"


def _share(part, whole) -> float:
    return float(part) / float(whole) if whole else float("nan")


def _short(error: str, limit: int = 160) -> str:
    error = error.replace("`", "'").replace("|", "/").replace("\n", " ")
    return error if len(error) <= limit else error[: limit - 1] + "…"



def _open_model_sections(analysis: Analysis, images: dict[str, str]) -> list[Section]:
    """Runs at a target rate or in stages: one section with both latencies, the schedule and the stages."""
    view = analysis.open_model
    if view is None:
        return []
    info = view.info
    rate = f"{fmt.rate(info['rate'])} task starts/s" if info.get("rate") else "the stages' rates"
    blocks: list[Block] = [
        f"Tasks started on a schedule ({rate}, {info.get('arrivals', 'constant')} arrivals) served by a pool of users. "
        "**Service time** is measured from the moment a request is sent (what Locust and the Latency section show); "
        "**corrected** latency is measured from the task's intended start, so it includes the time a request waited "
        "because the load generator could not send it on time (coordinated omission corrected). Locust's own statistics "
        "and web UI show service time only.",
    ]
    rows = []
    service = analysis.latency[analysis.latency["name"] == ALL_REQUESTS]
    if len(service):
        rows.append(["service time", f"**{ALL_REQUESTS}**", *_latency_cells(service.iloc[0].to_dict())])
    for row in view.corrected.to_dict("records"):
        name = f"**{ALL_REQUESTS}**" if row["name"] == ALL_REQUESTS else row["name"]
        rows.append(["corrected", name, *_latency_cells(row)])
    if rows:
        columns = ["latency (ms)", "step", "count", *(LABELS[p] for p in OPEN_MODEL_PERCENTILES)]
        blocks.append(table(columns, rows, set(columns[2:])))
    lag = info.get("start_lag_ms") or {}
    blocks.append(
        f"{fmt.count(info.get('intended_starts'))} scheduled starts: {fmt.count(info.get('starts'))} started, "
        f"{fmt.count(info.get('late_starts'))} late (more than {fmt.ms(info.get('late_after_ms'))} ms after their intended time; "
        f"the worst {fmt.ms(info.get('worst_lag_ms'))} ms), {fmt.count(info.get('unstarted_at_end'))} still waiting for a user when the run ended. "
        f"Start lag p50 {fmt.ms(lag.get('p50'))} ms, p99 {fmt.ms(lag.get('p99'))} ms, max {fmt.ms(lag.get('max'))} ms."
    )
    if view.fell_behind:
        blocks.append(
            "**The load generator fell behind its schedule**: every user of the pool was busy when starts fell due, "
            "so they began late (and were measured from their intended time). More users (the pool), more workers, "
            "or a lower rate keep the schedule; when the target slowed down, the corrected latency is the one to read."
        )
    if view.stage_seconds:
        stage_rows = [
            [str(number + 1), f"+{fmt.seconds(max(start, 0))}", fmt.count(users), f"{fmt.rate(rate)}/s" if rate else "closed model"]
            for number, (start, rate, users) in enumerate(view.stage_seconds)
        ]
        blocks.append(table(["stage", "began", "users", "rate"], stage_rows, {"users"}))
    blocks += _image(images, plots.SCHEDULE_PNG, "Task starts per second, intended vs achieved, and the worst start lag")
    return [Section("Open model: latency from the intended start", tuple(blocks))]


OPEN_MODEL_PERCENTILES = ("p50_ms", "p90_ms", "p99_ms", "p99_9_ms", "max_ms")


def _latency_cells(row: dict) -> list[str]:
    return [fmt.count(row["count"]), *(fmt.ms(row[p]) for p in OPEN_MODEL_PERCENTILES)]
