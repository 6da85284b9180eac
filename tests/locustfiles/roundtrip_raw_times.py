"""locustfiles/roundtrip.py plus a test listener that writes every raw response time to $RAW_TIMES_FILE at quit."""

import json
import os

from locust import events

from harness.run.locust_plugin import register
from harness.workload.tasks import ScenarioUser


class RoundTripUser(ScenarioUser):
    """Only the scenario's walk_ring steps."""

    task_names = ("walk_ring",)


register(events, [RoundTripUser])


@events.init.add_listener
def keep_raw_times(environment, **_):
    times = []

    def on_request(request_type, name, response_time, **__):
        times.append([request_type, name, response_time])

    def on_quit(**__):
        with open(os.environ["RAW_TIMES_FILE"], "w") as handle:
            json.dump(times, handle)

    environment.events.request.add_listener(on_request)
    environment.events.quit.add_listener(on_quit)
