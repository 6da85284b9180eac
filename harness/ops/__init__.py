"""Access patterns as plain functions: a client and arguments in, an OpResult out. No Locust here.

May import datasets, scenario and the shared leaves (errors, durations, redact); never Locust, boto3 clients come in as arguments.
"""

from harness.ops.partiql import partiql_insert_order
from harness.ops.result import OpResult
from harness.ops.ring import get_ring_item, walk_ring
from harness.ops.scan import ScanTotals, parallel_scan
from harness.ops.sharded_gsi import ShardedCount, sharded_gsi_query

__all__ = [
    "OpResult",
    "ScanTotals",
    "ShardedCount",
    "get_ring_item",
    "parallel_scan",
    "partiql_insert_order",
    "sharded_gsi_query",
    "walk_ring",
]
