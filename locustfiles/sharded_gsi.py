"""Write-sharded GSI reads, one Query per shard: locust -f locustfiles/sharded_gsi.py --scenario scenarios/<file>.yaml"""

from locust import events

from harness.run.locust_plugin import register
from harness.workload.tasks import ScenarioUser


class ShardedGsiUser(ScenarioUser):
    """Only the scenario's sharded_gsi_query steps."""

    task_names = ("sharded_gsi_query",)


register(events, [ShardedGsiUser])
