"""Bulk load of items with BatchWriteItem: parallel senders that re-send until every item is accepted."""

from __future__ import annotations

import itertools
import json
import queue
import random
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from botocore.exceptions import ClientError
from tqdm import tqdm

from harness.errors import THROTTLE_CODES, error_code

# DynamoDB refuses a BatchWriteItem call with more requests than this.
BATCH_WRITE_MAX_ITEMS = 25
FIRST_BACKOFF_SECONDS = 0.05
# Enough queued batches that no sender waits for the generator, few enough that memory stays flat.
QUEUED_BATCHES_PER_WORKER = 2
# How often a blocked sender or producer looks whether another thread asked everyone to stop.
STOP_POLL_SECONDS = 0.1
NO_MORE_BATCHES = None


@dataclass(frozen=True)
class LoadReport:
    """What one bulk load did."""

    items: int
    """Items DynamoDB accepted."""
    seconds: float
    """Wall-clock time of the whole load."""
    batches: int
    """BatchWriteItem calls, re-sends and throttled calls included."""
    resent_items: int
    """Items sent more than once, after DynamoDB returned them unprocessed or throttled their call."""
    consumed_wcu: float
    """Write capacity units DynamoDB reported consumed (ReturnConsumedCapacity=TOTAL, indexes included)."""
    repeated_keys: int = 0
    """Items whose key an earlier item of the same batch had: the later one replaced it, as one PutItem after another would."""

    @property
    def items_per_second(self) -> float:
        """Accepted items per wall-clock second (0 for an instant load)."""
        return self.items / self.seconds if self.seconds > 0 else 0.0


class _Tally:
    """Counters the senders share, and the progress bar they advance."""

    def __init__(self, progress_bar: tqdm):
        self._lock = threading.Lock()
        self._progress_bar = progress_bar
        self.items = self.batches = self.resent_items = self.repeated_keys = 0
        self.consumed_wcu = 0.0

    def record_call(self, accepted: int, to_resend: int, consumed_wcu: float = 0.0) -> None:
        """Count one BatchWriteItem call: items accepted, items to send again, capacity consumed."""
        with self._lock:
            self.batches += 1
            self.items += accepted
            self.resent_items += to_resend
            self.consumed_wcu += consumed_wcu
            self._progress_bar.update(accepted)

    def count_repeated(self, items: int) -> None:
        """Items dropped from a batch because a later item of it had the same key."""
        with self._lock:
            self.repeated_keys += items
            self._progress_bar.update(items)

    def report(self, seconds: float) -> LoadReport:
        """The counts so far as a LoadReport."""
        with self._lock:
            return LoadReport(self.items, seconds, self.batches, self.resent_items, self.consumed_wcu, self.repeated_keys)


def load_items(
    client,
    table: str,
    items: Iterable[dict],
    total: int | None = None,
    workers: int = 4,
    progress: bool = True,
    max_backoff: float = 2.0,
    key_names: tuple[str, ...] = (),
) -> LoadReport:
    """Write every item (DynamoDB wire format) to table with BatchWriteItem, 25 PutRequests a call.

    `workers` threads share the (thread-safe) low-level client and take batches from a bounded
    queue, so a generator of millions of items is never held in memory. UnprocessedItems and calls
    throttled with ProvisionedThroughputExceededException, ThrottlingException or
    RequestLimitExceeded are re-sent after exponential backoff with jitter (50 ms doubling up to
    max_backoff), for as long as it takes: no item is dropped. Any other error (ValidationException,
    ResourceNotFoundException, ...) stops the senders and is raised once they have stopped.

    DynamoDB rejects a call that puts two items with the same key (ValidationException). Given the
    table's `key_names`, a batch keeps the last of the items that share a key (what writing them one
    by one would leave) and the report counts the others as `repeated_keys`: a template dataset may
    draw the same key twice (a follower followed twice).

    total sizes the progress bar; progress=False hides it and the closing summary line on stderr.
    """
    if workers < 1:
        raise ValueError(f"workers must be 1 or more, found {workers}")
    started = time.perf_counter()
    with tqdm(total=total, unit="item", unit_scale=True, desc=table, disable=None if progress else True) as bar:
        tally = _Tally(bar)
        _send_in_parallel(client, table, _put_request_batches(items, key_names, tally), tally, workers, max_backoff)
    report = tally.report(time.perf_counter() - started)
    if progress:
        print(_summary_line(report, table), file=sys.stderr)
    return report


def _put_request_batches(items: Iterable[dict], key_names: tuple[str, ...], tally: _Tally) -> Iterator[list[dict]]:
    remaining = iter(items)
    while chunk := list(itertools.islice(remaining, BATCH_WRITE_MAX_ITEMS)):
        if key_names:
            by_key = {tuple(json.dumps(item.get(name), sort_keys=True) for name in key_names): item for item in chunk}
            if len(by_key) < len(chunk):
                tally.count_repeated(len(chunk) - len(by_key))
                chunk = list(by_key.values())
        yield [{"PutRequest": {"Item": item}} for item in chunk]


def _send_in_parallel(
    client, table: str, batches: Iterator[list[dict]], tally: _Tally, workers: int, max_backoff: float
) -> None:
    pending: queue.Queue = queue.Queue(maxsize=workers * QUEUED_BATCHES_PER_WORKER)
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="batch-writer") as pool:
        senders = [
            pool.submit(_send_from_queue, client, table, pending, stop, tally, max_backoff) for _ in range(workers)
        ]
        try:
            _enqueue_all(batches, pending, stop, end_markers=workers)
        except BaseException:
            # The generator failed or the user pressed Ctrl-C: let the senders finish their batch and quit.
            stop.set()
            raise
        _raise_first_failure(senders)


def _enqueue_all(batches: Iterator[list[dict]], pending: queue.Queue, stop: threading.Event, end_markers: int) -> None:
    for batch in itertools.chain(batches, itertools.repeat(NO_MORE_BATCHES, end_markers)):
        if not _put_unless_stopped(pending, batch, stop):
            return


def _put_unless_stopped(pending: queue.Queue, batch: list[dict] | None, stop: threading.Event) -> bool:
    # A plain put() would block forever on a full queue once a failed sender stopped taking batches.
    while not stop.is_set():
        try:
            pending.put(batch, timeout=STOP_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


def _send_from_queue(
    client, table: str, pending: queue.Queue, stop: threading.Event, tally: _Tally, max_backoff: float
) -> None:
    try:
        while not stop.is_set():
            try:
                batch = pending.get(timeout=STOP_POLL_SECONDS)
            except queue.Empty:
                continue
            if batch is NO_MORE_BATCHES:
                return
            _write_until_accepted(client, table, batch, tally, max_backoff)
    except BaseException:
        stop.set()
        raise


def _raise_first_failure(senders: list[Future]) -> None:
    for sender in senders:
        sender.result()


def _write_until_accepted(client, table: str, requests: list[dict], tally: _Tally, max_backoff: float) -> None:
    """BatchWriteItem of requests, then of whatever DynamoDB left unprocessed, until nothing is left."""
    delays = _backoff_delays(max_backoff)
    while requests:
        try:
            response = client.batch_write_item(RequestItems={table: requests}, ReturnConsumedCapacity="TOTAL")
        except ClientError as exc:
            if error_code(exc) not in THROTTLE_CODES:
                raise
            tally.record_call(accepted=0, to_resend=len(requests))
        else:
            unprocessed = _unprocessed_requests(response)
            tally.record_call(len(requests) - len(unprocessed), len(unprocessed), _consumed_wcu(response))
            requests = unprocessed
        if requests:
            time.sleep(next(delays))


def _unprocessed_requests(response: dict) -> list[dict]:
    # Every call writes one table, so all returned requests are ours whatever key names the table.
    return [request for requests in response.get("UnprocessedItems", {}).values() for request in requests]


def _consumed_wcu(response: dict) -> float:
    return sum(consumed.get("CapacityUnits", 0.0) for consumed in response.get("ConsumedCapacity", []))


def _backoff_delays(max_backoff: float) -> Iterator[float]:
    # Jitter, so senders throttled together do not all come back together; at least half the
    # ceiling, so a re-send always gives the partition some time.
    ceiling = min(FIRST_BACKOFF_SECONDS, max_backoff)
    while True:
        yield random.uniform(ceiling / 2, ceiling)
        ceiling = min(ceiling * 2, max_backoff)


def _summary_line(report: LoadReport, table: str) -> str:
    repeated = f"; {report.repeated_keys:,} generated items repeated a key and replaced the earlier item" if report.repeated_keys else ""
    return (
        f"loaded {report.items:,} items into {table} in {report.seconds:.1f} s "
        f"({report.items_per_second:,.0f} items/s){repeated}"
    )
