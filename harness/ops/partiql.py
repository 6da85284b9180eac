"""PartiQL writes: ExecuteStatement INSERT with `?` parameters."""

from __future__ import annotations

from harness.ops.result import OpResult


def insert_statement(table: str, attribute_names: list[str]) -> str:
    """INSERT INTO "table" VALUE {'a': ?, 'b': ?} for the given attribute names."""
    fields = ", ".join(f"'{name}': ?" for name in attribute_names)
    return f'INSERT INTO "{table}" VALUE {{{fields}}}'


def partiql_insert_order(client, table: str, order: dict) -> OpResult:
    """Insert one order item (wire-format attributes) with ExecuteStatement and `?` parameters.

    May raise ClientError DuplicateItemException (the key exists; DynamoDB Local answers the code
    DuplicateItem), ConditionalCheckFailedException, ProvisionedThroughputExceededException or
    ValidationException.
    """
    names = list(order)
    result = OpResult(value=order)
    result.absorb(
        client.execute_statement(
            Statement=insert_statement(table, names),
            Parameters=[order[name] for name in names],
            ReturnConsumedCapacity="INDEXES",
        )
    )
    return result
