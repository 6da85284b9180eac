"""Per DynamoDB operation: which buckets a request needs, how a batch is cut, and what the request really cost.

A Plan lists Parts: the whole request for single-item operations; one Part per item, key or
statement for batches (admitted one by one, the rest handed back as UnprocessedItems/Keys as
DynamoDB does) and transactions (all or nothing). Each Part's Demands carry an estimate of its
cost, reserved when admitted; after the answer, `settle` charges the difference with what
DynamoDB Local reports in ConsumedCapacity (exact), or keeps the estimate where Local reports
nothing (PartiQL; a SELECT is costed from the items it returned).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from harness.gate.buckets import READ, WRITE, CapacityModel, Demand, Throttle
from harness.gate.catalog import IndexInfo, TableInfo
from harness.gate.wire import consumed_entries, statement_error
from harness.wire import items

SINGLE, BATCH, TRANSACTION, STATEMENTS = "single", "batch", "transaction", "statements"
# Transactions cost twice the units of the same reads and writes done plainly.
TRANSACTION_FACTOR = 2.0
_WORD = re.compile(r"[A-Za-z_][\w]*")

Catalog = dict[str, "TableInfo | None"]


@dataclass
class Part:
    """What one admission decision covers, and where it sits in the request (`ref`)."""

    demands: list[Demand]
    ref: object = None
    table: str | None = None


@dataclass
class Plan:
    """How the gate treats one request."""

    op: str
    mode: str
    parts: list[Part]
    select: tuple[str, str | None, bool] | None = None
    """PartiQL SELECT (table, index, consistent): its cost is read from the returned items."""
    restrict: Callable[[dict, list[Part]], dict] | None = None
    """Batches: the request cut down to the admitted parts."""
    merge: Callable[[dict, list[tuple[Part, list[Throttle]]], dict], dict] | None = None
    """Batches: the answer with the refused parts handed back (response, refused with reasons, original request)."""


def table_name(name: str) -> str:
    """TableName may be an ARN: arn:aws:dynamodb:region:account:table/NAME."""
    return name.rsplit("table/", 1)[-1].split("/", 1)[0] if name.startswith("arn:") else name


def tables_of(operation: str, request: dict) -> list[str]:
    """The tables a request touches, to know before planning it."""
    if operation in ("BatchWriteItem", "BatchGetItem"):
        names = list(request.get("RequestItems") or {})
    elif operation == "TransactWriteItems":
        names = [next(iter(entry.values())).get("TableName", "") for entry in request.get("TransactItems") or []]
    elif operation == "TransactGetItems":
        names = [entry.get("Get", {}).get("TableName", "") for entry in request.get("TransactItems") or []]
    elif operation in STATEMENT_LISTS:
        names = [items.statement_target(entry.get("Statement", ""))[1] or "" for entry in request.get(STATEMENT_LISTS[operation]) or []]
    elif operation == "ExecuteStatement":
        names = [items.statement_target(request.get("Statement", ""))[1] or ""]
    else:
        names = [request.get("TableName") or ""]
    return list(dict.fromkeys(table_name(name) for name in names if name))


# ---- demands of single items ----------------------------------------------------------------


def _gsi_write_units(item: dict, table: TableInfo, index: IndexInfo) -> float:
    if index.projection == "ALL":
        return items.write_units(items.item_size(item))
    names = set(table.key_names()) | set(index.key_names())
    if index.projection == "INCLUDE":
        names |= index.included
    return items.write_units(items.item_size(item, names))


def put_demands(table: TableInfo, item: dict, factor: float = 1.0) -> list[Demand]:
    """PutItem: the table, and every GSI whose key attributes the item has (a sparse GSI is not written)."""
    demands = [Demand(table.name, None, WRITE, factor * items.write_units(items.item_size(item)), items.key_of(item.get(table.hash_key)))]
    for index in table.gsis.values():
        if all(name in item for name in index.key_names()):
            demands.append(Demand(table.name, index.name, WRITE, factor * _gsi_write_units(item, table, index), items.key_of(item[index.hash_key])))
    return demands


def update_demands(table: TableInfo, key: dict, changed: set[str] | None, factor: float = 1.0) -> list[Demand]:
    """UpdateItem/DeleteItem: the table, and the GSIs the change may reach (all of them for a delete: `changed` None)."""
    demands = [Demand(table.name, None, WRITE, factor, items.key_of((key or {}).get(table.hash_key)))]
    for index in table.gsis.values():
        reaches = changed is None or index.projection == "ALL" or bool(changed & (set(index.key_names()) | index.included))
        if reaches:
            demands.append(Demand(table.name, index.name, WRITE, factor))
    return demands


def read_demand(table: TableInfo, index_name: str | None, key_value: dict | None, consistent: bool, factor: float = 1.0) -> Demand:
    """A read of the table (or an LSI, which shares its capacity) or of a GSI; the minimum charge is reserved."""
    gsi = table.gsis.get(index_name or "")
    return Demand(table.name, gsi.name if gsi else None, READ, factor * items.read_units(0, consistent), items.key_of(key_value))


def _hash_key_for(table: TableInfo, index_name: str | None) -> str:
    gsi = table.gsis.get(index_name or "")
    return gsi.hash_key if gsi else table.hash_key


# ---- plans per operation --------------------------------------------------------------------


def plan_for(operation: str, request: dict, catalog: Catalog) -> Plan | None:
    """The plan of a data-plane request, or None for operations the gate does not meter."""
    planner = PLANNERS.get(operation)
    return planner(request, catalog) if planner else None


def _info(catalog: Catalog, name: str | None) -> TableInfo | None:
    return catalog.get(table_name(name)) if name else None


def _single(op: str, demands: list[Demand]) -> Plan:
    return Plan(op, SINGLE, [Part(demands)])


def _get_item(request: dict, catalog: Catalog) -> Plan | None:
    table = _info(catalog, request.get("TableName"))
    if table is None:
        return None
    key = (request.get("Key") or {}).get(table.hash_key)
    return _single(READ, [read_demand(table, None, key, bool(request.get("ConsistentRead")))])


def _query(request: dict, catalog: Catalog) -> Plan | None:
    table = _info(catalog, request.get("TableName"))
    if table is None:
        return None
    index = request.get("IndexName")
    key = items.key_condition_value(request, _hash_key_for(table, index))
    return _single(READ, [read_demand(table, index, key, bool(request.get("ConsistentRead")))])


def _scan(request: dict, catalog: Catalog) -> Plan | None:
    table = _info(catalog, request.get("TableName"))
    if table is None:
        return None
    return _single(READ, [read_demand(table, request.get("IndexName"), None, bool(request.get("ConsistentRead")))])


def _put_item(request: dict, catalog: Catalog) -> Plan | None:
    table = _info(catalog, request.get("TableName"))
    return _single(WRITE, put_demands(table, request.get("Item") or {})) if table else None


def _update_item(request: dict, catalog: Catalog) -> Plan | None:
    table = _info(catalog, request.get("TableName"))
    return _single(WRITE, update_demands(table, request.get("Key"), items.updated_attributes(request))) if table else None


def _delete_item(request: dict, catalog: Catalog) -> Plan | None:
    table = _info(catalog, request.get("TableName"))
    return _single(WRITE, update_demands(table, request.get("Key"), None)) if table else None


def _batch_write(request: dict, catalog: Catalog) -> Plan:
    parts = []
    for name, requests in (request.get("RequestItems") or {}).items():
        table = _info(catalog, name)
        for entry in requests:
            demands: list[Demand] = []
            if table is not None and "PutRequest" in entry:
                demands = put_demands(table, entry["PutRequest"].get("Item") or {})
            elif table is not None and "DeleteRequest" in entry:
                demands = update_demands(table, entry["DeleteRequest"].get("Key"), None)
            parts.append(Part(demands, entry, name))
    return Plan(WRITE, BATCH, parts, restrict=_restrict_batch_write, merge=_merge_batch_write)


def _restrict_batch_write(request: dict, admitted: list[Part]) -> dict:
    kept: dict[str, list] = {}
    for part in admitted:
        kept.setdefault(part.table, []).append(part.ref)
    return {**request, "RequestItems": kept}


def _merge_batch_write(response: dict, refused: list[tuple[Part, list[Throttle]]], request: dict) -> dict:
    unprocessed = response.setdefault("UnprocessedItems", {})
    for part, _ in refused:
        unprocessed.setdefault(part.table, []).append(part.ref)
    return response


def _batch_get(request: dict, catalog: Catalog) -> Plan:
    parts = []
    for name, spec in (request.get("RequestItems") or {}).items():
        table = _info(catalog, name)
        for key in spec.get("Keys") or []:
            demands = [] if table is None else [read_demand(table, None, key.get(table.hash_key), bool(spec.get("ConsistentRead")))]
            parts.append(Part(demands, key, name))
    return Plan(READ, BATCH, parts, restrict=_restrict_batch_get, merge=_merge_batch_get)


def _restrict_batch_get(request: dict, admitted: list[Part]) -> dict:
    kept: dict[str, dict] = {}
    for part in admitted:
        spec = kept.setdefault(part.table, {**request["RequestItems"][part.table], "Keys": []})
        spec["Keys"].append(part.ref)
    return {**request, "RequestItems": kept}


def _merge_batch_get(response: dict, refused: list[tuple[Part, list[Throttle]]], request: dict) -> dict:
    unprocessed = response.setdefault("UnprocessedKeys", {})
    for part, _ in refused:
        spec = request.get("RequestItems", {}).get(part.table, {})
        entry = unprocessed.setdefault(part.table, {**spec, "Keys": []})
        entry["Keys"].append(part.ref)
    return response


def _transact_write(request: dict, catalog: Catalog) -> Plan:
    parts = []
    for entry in request.get("TransactItems") or []:
        kind, body = next(iter(entry.items()))
        table = _info(catalog, body.get("TableName"))
        demands: list[Demand] = []
        if table is not None and kind == "Put":
            demands = put_demands(table, body.get("Item") or {}, TRANSACTION_FACTOR)
        elif table is not None and kind == "Update":
            demands = update_demands(table, body.get("Key"), items.updated_attributes(body), TRANSACTION_FACTOR)
        elif table is not None and kind == "Delete":
            demands = update_demands(table, body.get("Key"), None, TRANSACTION_FACTOR)
        elif table is not None:  # ConditionCheck: a write of the table only
            demands = update_demands(table, body.get("Key"), set(), TRANSACTION_FACTOR)[:1]
        parts.append(Part(demands))
    return Plan(WRITE, TRANSACTION, parts)


def _transact_get(request: dict, catalog: Catalog) -> Plan:
    parts = []
    for entry in request.get("TransactItems") or []:
        get = entry.get("Get", {})
        table = _info(catalog, get.get("TableName"))
        demands = [] if table is None else [read_demand(table, None, (get.get("Key") or {}).get(table.hash_key), True, TRANSACTION_FACTOR)]
        parts.append(Part(demands))
    return Plan(READ, TRANSACTION, parts)


# ---- PartiQL --------------------------------------------------------------------------------


def statement_part(statement: str, parameters: list[dict], catalog: Catalog, consistent: bool = False, factor: float = 1.0) -> tuple[str, Part, tuple | None]:
    """(READ or WRITE, its Part, SELECT target or None) of one PartiQL statement."""
    verb, name, index = items.statement_target(statement)
    table = _info(catalog, name)
    if table is None:
        return (READ if verb == "SELECT" else WRITE), Part([], table=name), None
    if verb == "SELECT":
        key = items.where_value(statement, parameters, _hash_key_for(table, index))
        demand = read_demand(table, index, key, consistent, factor)
        return READ, Part([demand], table=table.name), (table.name, demand.index, consistent)
    key = items.where_value(statement, parameters, table.hash_key)
    if verb == "INSERT":
        item = items.inserted_item(statement, parameters)
        demands = put_demands(table, item, factor) if item is not None else update_demands(table, {}, set(), factor)[:1]
    elif verb == "UPDATE":
        demands = update_demands(table, {table.hash_key: key} if key else {}, set(_WORD.findall(statement)), factor)
    else:
        demands = update_demands(table, {table.hash_key: key} if key else {}, None, factor)
    return WRITE, Part(demands, table=table.name), None


def _execute_statement(request: dict, catalog: Catalog) -> Plan:
    op, part, select = statement_part(request.get("Statement", ""), request.get("Parameters") or [], catalog, bool(request.get("ConsistentRead")))
    return Plan(op, SINGLE, [part], select=select)


def _batch_statements(request: dict, catalog: Catalog) -> Plan:
    parts, ops = [], set()
    for position, entry in enumerate(request.get("Statements") or []):
        op, part, _ = statement_part(entry.get("Statement", ""), entry.get("Parameters") or [], catalog, bool(entry.get("ConsistentRead")))
        part.ref = position
        parts.append(part)
        ops.add(op)
    op = READ if ops == {READ} else WRITE
    return Plan(op, STATEMENTS, parts, restrict=_restrict_statements, merge=_merge_statements)


def _restrict_statements(request: dict, admitted: list[Part]) -> dict:
    statements = request.get("Statements") or []
    return {**request, "Statements": [statements[part.ref] for part in admitted]}


def _merge_statements(response: dict, refused: list[tuple[Part, list[Throttle]]], request: dict) -> dict:
    """Answers of the forwarded statements, in order, with an error entry where a statement was throttled."""
    answers = iter(response.get("Responses") or [])
    throttled = {part.ref: (part, throttles) for part, throttles in refused}
    merged = []
    for position in range(len(request.get("Statements") or [])):
        if position in throttled:
            part, throttles = throttled[position]
            merged.append(statement_error(throttles, part.table))
        else:
            merged.append(next(answers, {}))
    response["Responses"] = merged
    return response


def _execute_transaction(request: dict, catalog: Catalog) -> Plan:
    parts, ops = [], set()
    for entry in request.get("TransactStatements") or []:
        op, part, _ = statement_part(entry.get("Statement", ""), entry.get("Parameters") or [], catalog, True, TRANSACTION_FACTOR)
        parts.append(part)
        ops.add(op)
    return Plan(READ if ops == {READ} else WRITE, TRANSACTION, parts)


STATEMENT_LISTS = {"BatchExecuteStatement": "Statements", "ExecuteTransaction": "TransactStatements"}
PLANNERS: dict[str, Callable[[dict, Catalog], Plan | None]] = {
    "GetItem": _get_item,
    "Query": _query,
    "Scan": _scan,
    "PutItem": _put_item,
    "UpdateItem": _update_item,
    "DeleteItem": _delete_item,
    "BatchWriteItem": _batch_write,
    "BatchGetItem": _batch_get,
    "TransactWriteItems": _transact_write,
    "TransactGetItems": _transact_get,
    "ExecuteStatement": _execute_statement,
    "BatchExecuteStatement": _batch_statements,
    "ExecuteTransaction": _execute_transaction,
}


# ---- settling after the answer --------------------------------------------------------------


def reserved_units(parts: list[Part]) -> dict[tuple[str, str | None], float]:
    """Units reserved per (table, index) by admitted parts."""
    totals: dict[tuple[str, str | None], float] = {}
    for part in parts:
        for demand in part.demands:
            totals[(demand.table, demand.index)] = totals.get((demand.table, demand.index), 0.0) + demand.units
    return totals


def consumed_units(consumed: object, catalog: Catalog) -> dict[tuple[str, str | None], float]:
    """Units per (table, GSI) in an INDEXES ConsumedCapacity; LSIs count for their table."""
    totals: dict[tuple[str, str | None], float] = {}
    for entry in consumed_entries(consumed):
        table = table_name(entry.get("TableName", ""))
        own = entry.get("Table", {}).get("CapacityUnits")
        if own is None and "GlobalSecondaryIndexes" not in entry:
            own = entry.get("CapacityUnits", 0.0)
        own = float(own or 0.0) + sum(float(index.get("CapacityUnits", 0.0)) for index in entry.get("LocalSecondaryIndexes", {}).values())
        totals[(table, None)] = totals.get((table, None), 0.0) + own
        for index, units in entry.get("GlobalSecondaryIndexes", {}).items():
            totals[(table, index)] = totals.get((table, index), 0.0) + float(units.get("CapacityUnits", 0.0))
    return totals


def select_units(plan: Plan, response: dict) -> dict[tuple[str, str | None], float]:
    """A PartiQL SELECT's cost from the items it returned (DynamoDB Local reports none)."""
    table, index, consistent = plan.select
    size = sum(items.item_size(item) for item in response.get("Items") or [])
    return {(table, index): items.read_units(size, consistent)}


def settle(model: CapacityModel, plan: Plan, admitted: list[Part], actual: dict[tuple[str, str | None], float] | None) -> dict[tuple[str, str | None], float]:
    """Charge what admitted parts really cost beyond (or refund below) their reservation; returns the real cost.

    `actual` None keeps the reservation (nothing better is known). A single-item request's
    difference also goes to its partition key.
    """
    reserved = reserved_units(admitted)
    if actual is None:
        return reserved
    keys = {}
    if plan.mode == SINGLE and len(admitted) == 1:
        keys = {(demand.table, demand.index): demand.key for demand in admitted[0].demands}
    for resource in set(reserved) | set(actual):
        difference = actual.get(resource, 0.0) - reserved.get(resource, 0.0)
        model.charge(resource[0], resource[1], plan.op, difference, keys.get(resource))
    return actual


def refund(model: CapacityModel, plan: Plan, admitted: list[Part]) -> None:
    """Give back what admitted parts reserved (the request failed without consuming capacity)."""
    for part in admitted:
        for demand in part.demands:
            model.charge(demand.table, demand.index, demand.op, -demand.units, demand.key)
