"""The fast request path: botocore-identical DynamoDB requests over geventhttpclient (see client.py)."""

from harness.fastpath.client import FAST_OPERATIONS, FastDynamoDBClient, unsupported_reason

__all__ = ["FAST_OPERATIONS", "FastDynamoDBClient", "unsupported_reason"]
