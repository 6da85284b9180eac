"""Capacity units of PartiQL requests whose answer reports none (DynamoDB Local), by the gate's own estimate.

The same rules the gate admits PartiQL with (harness.gate.plans): an INSERT costs its item's
size in write units on the table and on every GSI it reaches, an UPDATE or DELETE one write unit
(plus the GSIs it may reach), a SELECT the size of the items it returned in read units.
"""

from __future__ import annotations

from harness.gate.buckets import READ
from harness.gate.catalog import table_info
from harness.gate.plans import PLANNERS, Catalog, select_units
from harness.wire import items

PARTIQL_OPERATIONS = frozenset({"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})


def catalog_of(descriptions: list[dict]) -> Catalog:
    """A catalog from table descriptions (DescribeTable's `Table`, or a CreateTable request with its TableName)."""
    return {description["TableName"]: table_info(description) for description in descriptions}


def estimated_units(operation: str, request: dict, response: dict, catalog: Catalog) -> list[tuple[str, str, float, float]]:
    """(table, index, read units, write units) the gate estimates for a PartiQL request; [] for any other operation.

    `response` is the successful answer (a SELECT is costed from its Items; a batch's statements
    that answered with an Error cost nothing). Index "" is the table itself.
    """
    if operation not in PARTIQL_OPERATIONS:
        return []
    plan = PLANNERS[operation](request, catalog)
    if plan is None:
        return []
    if plan.select is not None:
        return [(table, index or "", units, 0.0) for (table, index), units in select_units(plan, response).items()]
    answers = (response.get("Responses") or []) if operation == "BatchExecuteStatement" else []
    totals: dict[tuple[str, str], list[float]] = {}
    for part in plan.parts:
        answer = answers[part.ref] if isinstance(part.ref, int) and part.ref < len(answers) else {}
        if "Error" in answer:
            continue
        returned = answer.get("Item")
        for demand in part.demands:
            units = demand.units
            if demand.op == READ and returned is not None:
                units = max(units, items.read_units(items.item_size(returned), False))
            entry = totals.setdefault((demand.table, demand.index or ""), [0.0, 0.0])
            entry[0 if demand.op == READ else 1] += units
    return [(table, index, read, write) for (table, index), (read, write) in totals.items() if read or write]
