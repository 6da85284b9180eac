"""Run a scenario's whole workload mix: locust -f locustfiles/scenario.py --scenario scenarios/quickstart.yaml"""

from locust import events

from harness.run.locust_plugin import register
from harness.workload.tasks import ScenarioUser


class MixUser(ScenarioUser):
    """Every step of the scenario's mix, by weight."""


register(events, [MixUser])
