"""The table and index a DynamoDB request addresses, read from its JSON body."""

from __future__ import annotations

import re

NO_INDEX = ""

# PartiQL names its table after FROM / INTO / UPDATE: "table", "table"."index", or unquoted.
_NAME = r'(?:"((?:[^"]|"")+)"|([A-Za-z0-9_.\-]+))'
_STATEMENT_TARGET = re.compile(rf"\b(?:FROM|INTO|UPDATE)\s+{_NAME}(?:\.{_NAME})?", re.IGNORECASE)


def target_of(body: dict) -> tuple[str, str]:
    """(table, index) of a request body; "" when the body names none.

    TableName/IndexName for item, query and scan calls; the statement's table (and "table"."index")
    for ExecuteStatement; the tables joined by "+" for batch and transaction calls.
    """
    if "TableName" in body:
        return body["TableName"], body.get("IndexName") or NO_INDEX
    if "Statement" in body:
        return statement_target(body["Statement"])
    if "RequestItems" in body:
        return "+".join(sorted(body["RequestItems"])), NO_INDEX
    if "TransactItems" in body:
        names = {action.get("TableName", "") for item in body["TransactItems"] for action in item.values() if isinstance(action, dict)}
        return "+".join(sorted(names)), NO_INDEX
    return "", NO_INDEX


def statement_target(statement: str) -> tuple[str, str]:
    """(table, index) named by a PartiQL statement: `SELECT * FROM "t"."i"` -> ("t", "i")."""
    match = _STATEMENT_TARGET.search(statement or "")
    if match is None:
        return "", NO_INDEX
    quoted_table, bare_table, quoted_index, bare_index = match.groups()
    table = quoted_table.replace('""', '"') if quoted_table else bare_table
    index = quoted_index.replace('""', '"') if quoted_index else (bare_index or NO_INDEX)
    return table, index
