"""The partition keys a DynamoDB request touches, per table and index: what hot-key tallies count.

Like CloudWatch Contributor Insights: a GetItem, UpdateItem or DeleteItem touches its Key's
partition; a PutItem its item's partition and, on each GSI whose key attribute the item carries,
that index's partition; a Query the partition of its key condition; batches, transactions and
PartiQL statements each item or statement they name. A Scan touches no single key.
"""

from __future__ import annotations

from collections.abc import Iterator

from harness.metrics.targets import NO_INDEX
from harness.wire import items as wire

OTHER_KEYS = "(other keys)"
"""The key row that takes every key past MAX_KEYS distinct keys of one table or index."""
MAX_KEYS = 20_000
"""Distinct keys tallied per table and index; enough for the rank plot, bounded for long runs."""

Schemas = dict[str, dict[str, str]]
"""table -> {index ("" for the table) -> partition key attribute}."""

TouchedKey = tuple[str, str, str]
"""(table, index, key text)."""


def key_schemas(tables) -> Schemas:
    """The partition key attribute of each table and GSI of a scenario's `tables`."""
    return {table.name: {NO_INDEX: table.key.hash, **{gsi.name: gsi.key.hash for gsi in table.gsis}} for table in tables}


def key_text(value: dict | None) -> str | None:
    """A key value as users read it: the string, or the number normalised (1, 1.0 and 1e0 alike); other types keep their type ('B:...')."""
    if type(value) is not dict or len(value) != 1:
        return None
    ((kind, data),) = value.items()
    if kind == "S":
        return data
    text = wire.key_of(value)
    return text[2:] if kind == "N" else text


def touched_keys(operation: str, body: dict, schemas: Schemas) -> list[TouchedKey]:
    """Every (table, index, key) the request `body` of `operation` reads or writes; [] when none is known."""
    if operation == "GetItem" or operation == "UpdateItem" or operation == "DeleteItem":  # the common case, without generators
        table = body.get("TableName", "")
        attribute = schemas.get(table, {}).get(NO_INDEX)
        text = key_text(body.get("Key", {}).get(attribute)) if attribute else None
        return [(table, NO_INDEX, text)] if text is not None else []
    reader = _READERS.get(operation)
    return list(reader(body, schemas)) if reader else []


def _table_key(table: str, key: dict | None, schemas: Schemas) -> Iterator[TouchedKey]:
    attribute = schemas.get(table, {}).get(NO_INDEX)
    text = key_text((key or {}).get(attribute)) if attribute else None
    if text is not None:
        yield table, NO_INDEX, text


def _item_keys(table: str, item: dict | None, schemas: Schemas) -> Iterator[TouchedKey]:
    """A written item's partition on the table and on every GSI whose key attribute it carries (sparse GSIs skip it)."""
    item = item or {}
    for index, attribute in schemas.get(table, {}).items():
        text = key_text(item.get(attribute))
        if text is not None:
            yield table, index, text


def _keyed(body: dict, schemas: Schemas) -> Iterator[TouchedKey]:
    yield from _table_key(body.get("TableName", ""), body.get("Key"), schemas)


def _put(body: dict, schemas: Schemas) -> Iterator[TouchedKey]:
    yield from _item_keys(body.get("TableName", ""), body.get("Item"), schemas)


def _query(body: dict, schemas: Schemas) -> Iterator[TouchedKey]:
    table, index = body.get("TableName", ""), body.get("IndexName") or NO_INDEX
    indexes = schemas.get(table, {})
    attribute = indexes.get(index) or indexes.get(NO_INDEX)  # a local index shares the table's partition key
    text = key_text(wire.key_condition_value(body, attribute)) if attribute else None
    if text is not None:
        yield table, index, text


def _batch_get(body: dict, schemas: Schemas) -> Iterator[TouchedKey]:
    for table, request in (body.get("RequestItems") or {}).items():
        for key in request.get("Keys") or []:
            yield from _table_key(table, key, schemas)


def _batch_write(body: dict, schemas: Schemas) -> Iterator[TouchedKey]:
    for table, requests in (body.get("RequestItems") or {}).items():
        for request in requests:
            if "PutRequest" in request:
                yield from _item_keys(table, request["PutRequest"].get("Item"), schemas)
            elif "DeleteRequest" in request:
                yield from _table_key(table, request["DeleteRequest"].get("Key"), schemas)


def _transaction(body: dict, schemas: Schemas) -> Iterator[TouchedKey]:
    for entry in body.get("TransactItems") or []:
        for kind, action in entry.items():
            if kind == "Put":
                yield from _item_keys(action.get("TableName", ""), action.get("Item"), schemas)
            else:
                yield from _table_key(action.get("TableName", ""), action.get("Key"), schemas)


def _statement(statement: str, parameters: list[dict], schemas: Schemas) -> Iterator[TouchedKey]:
    verb, table, index = wire.statement_target(statement or "")
    if not table:
        return
    if verb == "INSERT":
        yield from _item_keys(table, wire.inserted_item(statement, parameters or []), schemas)
        return
    index = index or NO_INDEX
    indexes = schemas.get(table, {})
    attribute = indexes.get(index) or indexes.get(NO_INDEX)
    text = key_text(wire.where_value(statement, parameters or [], attribute)) if attribute else None
    if text is not None:
        yield table, index, text


def _execute_statement(body: dict, schemas: Schemas) -> Iterator[TouchedKey]:
    yield from _statement(body.get("Statement", ""), body.get("Parameters"), schemas)


def _statements(field: str):
    def read(body: dict, schemas: Schemas) -> Iterator[TouchedKey]:
        for entry in body.get(field) or []:
            yield from _statement(entry.get("Statement", ""), entry.get("Parameters"), schemas)

    return read


_READERS = {
    "GetItem": _keyed,
    "UpdateItem": _keyed,
    "DeleteItem": _keyed,
    "PutItem": _put,
    "Query": _query,
    "BatchGetItem": _batch_get,
    "BatchWriteItem": _batch_write,
    "TransactGetItems": _transaction,
    "TransactWriteItems": _transaction,
    "ExecuteStatement": _execute_statement,
    "BatchExecuteStatement": _statements("Statements"),
    "ExecuteTransaction": _statements("TransactStatements"),
}


class KeyTally:
    """Per (table, index, key): attempts, read units, write units, throttled attempts; and throttles per reason.

    Past MAX_KEYS distinct keys of one table or index, new keys count under OTHER_KEYS, so memory
    and worker reports stay bounded however many keys a run touches.
    """

    def __init__(self):
        self._keys: dict[TouchedKey, list[float]] = {}
        self._distinct: dict[tuple[str, str], int] = {}
        self._reasons: dict[tuple[str, str, str, str], int] = {}

    def _slot(self, table: str, index: str, key: str) -> list[float]:
        entry = (table, index, key)
        row = self._keys.get(entry)
        if row is not None:
            return row
        if key != OTHER_KEYS:
            distinct = self._distinct.get((table, index), 0)
            if distinct >= MAX_KEYS:
                return self._slot(table, index, OTHER_KEYS)
            self._distinct[(table, index)] = distinct + 1
        row = self._keys[entry] = [0, 0.0, 0.0, 0]
        return row

    def add(self, table: str, index: str, key: str, attempts: int, read_units: float, write_units: float, throttled: int) -> None:
        """Add one row's numbers to the key's row."""
        row = self._slot(table, index, key)
        row[0] += attempts
        row[1] += read_units
        row[2] += write_units
        row[3] += throttled

    def add_reason(self, table: str, index: str, key: str, reason: str, throttled: int) -> None:
        """Throttled attempts of a key, by the reason DynamoDB (or the capacity gate) gave."""
        if (table, index, key) not in self._keys:
            self._slot(table, index, key)
        if (table, index, key) not in self._keys:
            key = OTHER_KEYS
        entry = (table, index, key, reason)
        self._reasons[entry] = self._reasons.get(entry, 0) + throttled

    def rows(self) -> list[list]:
        """[table, index, key, attempts, read units, write units, throttled attempts], sorted."""
        return [[*key, *(round(value, 6) if isinstance(value, float) else value for value in row)] for key, row in sorted(self._keys.items())]

    def reason_rows(self) -> list[list]:
        """[table, index, key, reason, throttled attempts], sorted."""
        return [[*key, count] for key, count in sorted(self._reasons.items())]

    def add_rows(self, rows, reason_rows=()) -> None:
        """Merge another process's rows() and reason_rows()."""
        for table, index, key, attempts, read_units, write_units, throttled in rows:
            self.add(table, index, key, attempts, read_units, write_units, throttled)
        for table, index, key, reason, throttled in reason_rows:
            self.add_reason(table, index, key, reason, throttled)

    def __bool__(self) -> bool:
        return bool(self._keys)
