"""Round-trip chain gets around the ring (GetItem): locust -f locustfiles/roundtrip.py --scenario scenarios/<file>.yaml"""

from locust import events

from harness.run.locust_plugin import register
from harness.workload.tasks import ScenarioUser


class RoundTripUser(ScenarioUser):
    """Only the scenario's walk_ring steps."""

    task_names = ("walk_ring",)


register(events, [RoundTripUser])
