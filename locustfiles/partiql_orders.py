"""PartiQL INSERT of new orders (ExecuteStatement): locust -f locustfiles/partiql_orders.py --scenario scenarios/<file>.yaml"""

from locust import events

from harness.run.locust_plugin import register
from harness.workload.tasks import ScenarioUser


class PartiqlOrdersUser(ScenarioUser):
    """Only the scenario's partiql_insert_order steps."""

    task_names = ("partiql_insert_order",)


register(events, [PartiqlOrdersUser])
