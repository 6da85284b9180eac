"""Which tables the harness created: a tag where the target supports tagging, a registry table where not.

DynamoDB Local answers UnknownOperationException to ListTagsOfResource/TagResource, so on such
targets ownership is recorded in a small registry table keyed by table name and creation time
(a table someone else recreated under the same name is therefore never taken for ours).
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from harness.errors import error_code

OWNER_TAG_KEY = "created-by"
OWNER_TAG_VALUE = "ddb-harness"
OWNER_TAGS = [{"Key": OWNER_TAG_KEY, "Value": OWNER_TAG_VALUE}]
REGISTRY_TABLE = "ddb-harness-owned-tables"
NO_TAGGING_CODES = {"UnknownOperationException", "UnrecognizedClientException"}


def mark_owned(client, description: dict) -> None:
    """Record a just-created table as ours: TagResource, or PutItem into the registry table."""
    try:
        client.tag_resource(ResourceArn=description["TableArn"], Tags=OWNER_TAGS)
    except ClientError as exc:
        if error_code(exc) not in NO_TAGGING_CODES:
            raise
        _ensure_registry(client)
        client.put_item(TableName=REGISTRY_TABLE, Item=_registry_item(description))


def is_owned(client, description: dict) -> bool:
    """True when the harness created this very table (ListTagsOfResource, or GetItem on the registry)."""
    try:
        tags = client.list_tags_of_resource(ResourceArn=description["TableArn"]).get("Tags", [])
        return {"Key": OWNER_TAG_KEY, "Value": OWNER_TAG_VALUE} in tags
    except ClientError as exc:
        if error_code(exc) not in NO_TAGGING_CODES:
            raise
    try:
        found = client.get_item(TableName=REGISTRY_TABLE, Key={"table_name": {"S": description["TableName"]}})
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return False
        raise
    return found.get("Item") == _registry_item(description)


def forget(client, table_name: str) -> None:
    """Drop a deleted table from the registry (DeleteItem; a no-op where tags were used)."""
    try:
        client.delete_item(TableName=REGISTRY_TABLE, Key={"table_name": {"S": table_name}})
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise


def _registry_item(description: dict) -> dict:
    created = description["CreationDateTime"]
    stamp = created.isoformat() if hasattr(created, "isoformat") else str(created)
    return {"table_name": {"S": description["TableName"]}, "created": {"S": stamp}}


def _ensure_registry(client) -> None:
    """CreateTable for the registry on first use, then wait until it is ACTIVE."""
    try:
        client.create_table(
            TableName=REGISTRY_TABLE,
            AttributeDefinitions=[{"AttributeName": "table_name", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "table_name", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    except ClientError as exc:
        if error_code(exc) != "ResourceInUseException":
            raise
    client.get_waiter("table_exists").wait(TableName=REGISTRY_TABLE, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
