"""A scenario's load stages as Locust's LoadTestShape: users per stage from the shape, rate per stage on time.

Locust asks the shape for users once a second (headless, web UI and master alike). The rate of
each stage is switched by a timer at the stage's exact start instead, so the schedule follows the
stages to the millisecond; every switch is recorded for the report's stage boundaries.
"""

from __future__ import annotations

import time
from typing import Callable

import gevent
from locust import LoadTestShape

from harness.scenario import LoadSpec, Stage


def stage_users(load: LoadSpec) -> list[int]:
    """The pool size during each stage: its own users, else the stage before's (the first: load.users)."""
    users, sizes = load.users, []
    for stage in load.stages:
        users = stage.users or users
        sizes.append(users)
    return sizes


class StagesShape(LoadTestShape):
    """The scenario's stages: (users, spawn rate) per tick, None after the last one (the run ends)."""

    def __init__(self, load: LoadSpec, on_stage: Callable[[int, Stage, int], None]):
        super().__init__()
        self.load = load
        self.users = stage_users(load)
        self.on_stage = on_stage
        self._timer: gevent.Greenlet | None = None

    def reset_time(self) -> None:
        """A shape test starts: the first stage's rate applies now (before any user spawns), the others on time."""
        super().reset_time()
        if self._timer is not None:
            self._timer.kill()
        self.on_stage(0, self.load.stages[0], self.users[0])
        self._timer = gevent.spawn(self._switch_stages, self.start_time)

    def stop(self) -> None:
        """The test stopped: no more switches."""
        if self._timer is not None:
            self._timer.kill()
            self._timer = None

    def tick(self) -> tuple[int, float] | None:
        """Locust's question once a second: how many users now (None: the last stage is over)."""
        elapsed, now = 0, self.get_run_time()
        for stage, users in zip(self.load.stages, self.users, strict=True):
            elapsed += stage.seconds
            if now < elapsed:
                return users, self.load.spawn_rate
        return None

    def _switch_stages(self, start: float) -> None:
        offset = 0.0
        for index, (stage, users) in enumerate(zip(self.load.stages, self.users, strict=True)):
            if index:
                gevent.sleep(max(start + offset - time.perf_counter(), 0))
                self.on_stage(index, stage, users)
            offset += stage.seconds
