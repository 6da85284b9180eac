"""Consumed capacity of one response, split into read and write units per table and index.

Every harness request sends ReturnConsumedCapacity=INDEXES, so a response's ConsumedCapacity (a
dict, or a list for batch and transaction calls) looks like {'TableName': t, 'CapacityUnits': 3,
'Table': {'CapacityUnits': 1}, 'GlobalSecondaryIndexes': {'GSI_1': {'CapacityUnits': 2}}}, sometimes
with ReadCapacityUnits/WriteCapacityUnits, which are used when present. Otherwise the operation
says which it is.
"""

from __future__ import annotations

from typing import Iterator

TABLE = ""  # the index column of the table's own row

READ_OPERATIONS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
INDEX_SECTIONS = ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")


def is_read(operation: str, body: dict) -> bool:
    """True when the operation consumes read capacity (ExecuteStatement: a SELECT)."""
    if operation == "ExecuteStatement":
        return str(body.get("Statement", "")).lstrip().upper().startswith("SELECT")
    return operation in READ_OPERATIONS


def capacity_parts(operation: str, body: dict, consumed) -> Iterator[tuple[str, str, float, float]]:
    """(table, index, read units, write units) for each table and index a response consumed capacity on.

    The index is "" for the table itself; parts that consumed nothing are left out.
    """
    entries = consumed if isinstance(consumed, list) else [consumed] if isinstance(consumed, dict) else []
    read = is_read(operation, body)
    for entry in entries:
        table = entry.get("TableName", "")
        for index, units in _parts_of(entry):
            read_units, write_units = split_units(units, read)
            if read_units or write_units:
                yield table, index, read_units, write_units


def split_units(units: dict, read: bool) -> tuple[float, float]:
    """(read, write) units of one capacity dict: its Read/WriteCapacityUnits, else CapacityUnits on the operation's side."""
    if "ReadCapacityUnits" in units or "WriteCapacityUnits" in units:
        return float(units.get("ReadCapacityUnits", 0.0)), float(units.get("WriteCapacityUnits", 0.0))
    total = float(units.get("CapacityUnits", 0.0))
    return (total, 0.0) if read else (0.0, total)


def _parts_of(entry: dict) -> Iterator[tuple[str, dict]]:
    """The table's units and each index's units; the entry itself when it has no breakdown (TOTAL)."""
    if "Table" not in entry and not any(section in entry for section in INDEX_SECTIONS):
        yield TABLE, entry
        return
    yield TABLE, entry.get("Table", {})
    for section in INDEX_SECTIONS:
        yield from (entry.get(section) or {}).items()
