"""The run's target rate, served here (standalone) or split across the workers that are alive (master).

The master sends each worker its share (the total over the live workers, a Locust custom message)
when a test starts, when the total changes (a stage) and whenever the set of live workers changes:
a worker that joins takes a share, one that goes missing (Locust's heartbeat) leaves its share to
the others. A worker applies its share to its arrival dispatcher.
"""

from __future__ import annotations

import logging

import gevent
from locust.runners import STATE_MISSING, MasterRunner, WorkerRunner

from harness.workload.arrivals import ArrivalDispatcher

log = logging.getLogger(__name__)

RATE_MESSAGE = "ddb_harness_rate"
CHECK_WORKERS_EVERY_SECONDS = 0.5
"""How often the master looks for workers that joined or went missing."""


class RateControl:
    """Sets the run's total rate: on this process's dispatcher, or as shares sent to the live workers."""

    def __init__(self, runner, arrivals: ArrivalDispatcher | None):
        self.runner = runner
        self.arrivals = arrivals
        self.total: float | None = None
        """The run's total target rate now (None: closed model)."""
        self.set_once = False
        """A test has set a total: from then on every live worker gets its share (None in a closed-model stage)."""
        self._sent: dict[str, float | None] = {}

    def set_total(self, rate: float | None) -> None:
        """Serve `rate` starts per second in the whole run from now on."""
        self.total, self.set_once = rate, True
        if isinstance(self.runner, MasterRunner):
            self._sent.clear()
            self.rebalance()
        elif self.arrivals is not None:
            self.arrivals.set_rate(rate)

    def rebalance(self) -> None:
        """Master: send a share to every live worker whose share changed (a worker joined or went missing)."""
        live = sorted(worker.id for worker in self.runner.clients.values() if worker.state != STATE_MISSING)
        share = self.total / len(live) if live and self.total else None
        if set(self._sent) - set(live):
            log.info("rate: %d live workers now share %s starts/s", len(live), f"{self.total:g}" if self.total else "no")
        self._sent = {worker: rate for worker, rate in self._sent.items() if worker in live}
        for worker in live:
            if worker not in self._sent or self._sent[worker] != share:
                self.runner.send_message(RATE_MESSAGE, {"rate": share}, client_id=worker)
                self._sent[worker] = share

    def watch_workers(self) -> None:
        """Master: rebalance whenever the live workers change, for the life of the process."""

        def loop() -> None:
            while True:
                gevent.sleep(CHECK_WORKERS_EVERY_SECONDS)
                if self.set_once:
                    self.rebalance()

        gevent.spawn(loop)


def install(environment, control: RateControl) -> None:
    """Worker: apply the shares the master sends. Master: keep the shares balanced."""
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        runner.register_message(RATE_MESSAGE, lambda msg, **_: _apply(control, msg.data))
    elif isinstance(runner, MasterRunner):
        control.watch_workers()


def _apply(control: RateControl, data: dict) -> None:
    if control.arrivals is not None:
        control.arrivals.set_rate(data["rate"])
        log.info("rate: this worker serves %s starts/s", f"{data['rate']:g}" if data["rate"] else "no")
