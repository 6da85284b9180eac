"""Parallel scans with Segment/TotalSegments (Scan): locust -f locustfiles/parallel_scan.py --scenario scenarios/<file>.yaml"""

from locust import events

from harness.run.locust_plugin import register
from harness.workload.tasks import ScenarioUser


class ParallelScanUser(ScenarioUser):
    """Only the scenario's parallel_scan steps."""

    task_names = ("parallel_scan",)


register(events, [ParallelScanUser])
