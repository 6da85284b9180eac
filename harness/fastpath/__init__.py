"""The fast request path: botocore-identical DynamoDB requests over geventhttpclient (see client.py).

May import the shared leaves only: it sits under the client factory (harness.target.client).
"""

from harness.fastpath.client import FAST_OPERATIONS, FastDynamoDBClient, unsupported_reason

__all__ = ["FAST_OPERATIONS", "FastDynamoDBClient", "unsupported_reason"]
