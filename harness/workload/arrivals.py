"""Open-model arrivals: a schedule of intended start times at a target rate, served by a pool of users.

One dispatcher greenlet per process sleeps until the next intended start and hands it to the
pool (a queue); a free user takes the oldest due start and runs one task. When every user is busy,
due starts wait in the queue with their intended times, so the lag is measured, never hidden: a
start is late when it begins more than LATE_AFTER_MS after its intended time, and starts still
waiting when the run stops are counted. The rate can change at any time (stages, a worker's share).
"""

from __future__ import annotations

import random
import time
from typing import Callable, Protocol

import gevent
from gevent.event import Event
from gevent.queue import Empty, Queue

WAKE_EVERY_SECONDS = 0.25
"""How often a user waiting for a start checks whether the rate went away (a closed-model stage)."""


class ScheduleListener(Protocol):
    """Where the dispatcher and the users report scheduled starts (harness.metrics.open_model.OpenModelRecorder)."""

    def intended(self, second: int) -> None: ...
    def started(self, second: int, lag_ms: float) -> None: ...
    def unstarted(self, count: int, worst_lag_ms: float) -> None: ...


def gap_function(arrivals: str, rng: random.Random) -> Callable[[float], float]:
    """Seconds between two intended starts at `rate`: 1/rate (constant) or exponential with mean 1/rate (poisson)."""
    if arrivals == "poisson":
        return rng.expovariate
    return lambda rate: 1.0 / rate


class ArrivalDispatcher:
    """Hands out intended start times (time.perf_counter seconds) at this process's rate."""

    def __init__(self, arrivals: str, listener: ScheduleListener, rng: random.Random | None = None, clock: Callable[[], float] = time.perf_counter):
        self.rate: float | None = None
        """This process's share of the target rate (starts per second); None: no schedule (closed model)."""
        self._gap = gap_function(arrivals, rng or random.Random())
        self._listener = listener
        self._clock = clock
        self._wall_offset = time.time() - clock()
        self._due: Queue = Queue()
        self._changed = Event()
        self._next: float | None = None
        self._greenlet: gevent.Greenlet | None = None
        self._closed = False
        """True once told there is no rate (a closed-model stage); before any rate, users wait for one."""

    def set_rate(self, rate: float | None) -> None:
        """Serve `rate` starts per second from now on (None or 0: stop scheduling; users fall back to the closed model)."""
        rate = rate if rate and rate > 0 else None
        self._closed = rate is None
        if rate == self.rate:
            return
        now = self._clock()
        if self.rate is not None and self._greenlet is not None:
            self._hand_out_due(now)  # starts already due at the old rate are kept, however late the dispatcher runs
        if rate is None:
            self._next = None
        elif self._next is None or self.rate is None:
            self._next = now
        else:  # the new spacing from the last start handed out
            self._next = max(now, self._next - 1.0 / self.rate + 1.0 / rate)
        self.rate = rate
        self._changed.set()

    def start(self) -> None:
        """Start the dispatcher greenlet (again after a stop)."""
        if self._greenlet is None or self._greenlet.dead:
            self._greenlet = gevent.spawn(self._dispatch)

    def stop(self) -> None:
        """Stop scheduling (the rate is forgotten); the due starts no user took are reported as unstarted."""
        self._next, self.rate, self._closed = None, None, False  # first: a dispatcher resuming while killed hands out nothing more
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None
        waiting = []
        while not self._due.empty():
            waiting.append(self._due.get_nowait())
        if waiting:
            self._listener.unstarted(len(waiting), (self._clock() - min(waiting)) * 1000)

    def take(self) -> float | None:
        """Block until a start is due; returns how late it is taken (ms, 0 when on time), None in a closed-model stage.

        Before the first rate (a worker whose share is on its way) and after stop() it waits: users never
        start unscheduled tasks in an open-model run.
        """
        while True:
            if self.rate is None:
                if self._closed and self._greenlet is not None:
                    return None
                self._changed.wait(WAKE_EVERY_SECONDS)
                continue
            try:
                intended = self._due.get(timeout=WAKE_EVERY_SECONDS)
            except Empty:
                continue
            now = self._clock()
            lag_ms = max(now - intended, 0.0) * 1000
            self._listener.started(int(now + self._wall_offset), lag_ms)
            return lag_ms

    def _dispatch(self) -> None:
        while True:
            if self._next is None:
                self._changed.wait()
                self._changed.clear()
                continue
            now = self._clock()
            self._hand_out_due(now)
            if self._next is not None:
                self._changed.clear()
                self._changed.wait(self._next - now)

    def _hand_out_due(self, now: float) -> None:
        """Queue every start whose intended time has come, each with its own intended time."""
        while self._next is not None and self._next <= now:
            self._due.put(self._next)
            self._listener.intended(int(self._next + self._wall_offset))
            self._next += self._gap(self.rate)
