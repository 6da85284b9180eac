"""A step's DynamoDB request, built from its templates and the fields bound for one execution.

`compile_request(step, scenario)` runs once per process and returns a `Request`: `build(fields,
more)` makes the wire-format request for one execution (`more()` binds a fresh item for each
further element of a batch), `send(client, request)` issues it through harness.ops.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

from harness.ops import batches, items, reads, statements, transactions
from harness.ops.result import OpResult
from harness.ops.templates import Fields, MissingField, compile_template, to_wire
from harness.scenario import Scenario
from harness.scenario import operations as spec

ITEM = "run.item"
"""The bound field holding the wire item a `new` made (PutItem's default Item)."""

Build = Callable[[Fields, Callable[[], Fields]], dict]


@dataclass(frozen=True)
class Request:
    """How one step makes and sends its request."""

    build: Build
    send: Callable[[Any, dict], OpResult]


def compile_request(step, scenario: Scenario) -> Request:
    """The Request of one operation step (GetItem ... BatchExecuteStatement)."""
    return COMPILERS[step.op](step, scenario)


def _key_of(scenario: Scenario, table: str, template: dict | None, path: str) -> Callable[[Fields], dict]:
    """The Key: the template's, else the key attributes of the bound item, typed as the table declares."""
    spec_table = scenario.table(table)
    types = spec_table.attributes
    if template is not None:
        render = compile_template(template, path)
        return lambda fields: {name: to_wire(value, types.get(name)) for name, value in render(fields).items()}
    names = spec_table.key.names()
    return lambda fields: {name: to_wire(_bound(fields, name), types.get(name)) for name in names}


def _bound(fields: Fields, name: str) -> Any:
    try:
        return fields[name]
    except KeyError:
        raise MissingField(name) from None


def _item_of(template: dict | None, path: str) -> Callable[[Fields], dict]:
    """The Item: the template's, else the wire item a `new` made."""
    if template is None:
        return lambda fields: _bound(fields, ITEM)
    render = compile_template(template, path)
    return lambda fields: {name: to_wire(value) for name, value in render(fields).items()}


def _expressions(step, path: str, **fields: str | None) -> Callable[[Fields], dict]:
    """ExpressionAttributeNames/Values and the expressions themselves, as request fields."""
    fixed = {name: value for name, value in fields.items() if value is not None}
    if getattr(step, "names", None):
        fixed["ExpressionAttributeNames"] = dict(step.names)
    values = getattr(step, "values", None)
    if not values:
        return lambda bound: fixed
    render = compile_template(dict(values), f"{path}.values")
    return lambda bound: {**fixed, "ExpressionAttributeValues": {name: to_wire(value) for name, value in render(bound).items()}}


def _single(step, scenario: Scenario, send, request_fields: dict, key: bool = False, item: bool = False) -> Request:
    """GetItem, PutItem, UpdateItem, DeleteItem: a key or an item, plus expressions."""
    expressions = _expressions(step, step.name, **request_fields)
    key_of = _key_of(scenario, step.table, step.key, f"{step.name}.key") if key else None
    item_of = _item_of(step.item, f"{step.name}.item") if item else None

    def build(fields: Fields, more) -> dict:
        request = {"TableName": step.table, **expressions(fields)}
        if key_of:
            request["Key"] = key_of(fields)
        if item_of:
            request["Item"] = item_of(fields)
        return request

    return Request(build, send)


def _get_item(step: spec.GetItemStep, scenario: Scenario) -> Request:
    fields = {"ProjectionExpression": step.projection, "ConsistentRead": step.consistent_read or None}
    return _single(step, scenario, items.get_item, fields, key=True)


def _put_item(step: spec.PutItemStep, scenario: Scenario) -> Request:
    fields = {"ConditionExpression": step.condition, "ReturnValues": _returns(step.return_values)}
    return _single(step, scenario, items.put_item, fields, item=True)


def _update_item(step: spec.UpdateItemStep, scenario: Scenario) -> Request:
    fields = {"UpdateExpression": step.update, "ConditionExpression": step.condition, "ReturnValues": _returns(step.return_values)}
    return _single(step, scenario, items.update_item, fields, key=True)


def _delete_item(step: spec.DeleteItemStep, scenario: Scenario) -> Request:
    fields = {"ConditionExpression": step.condition, "ReturnValues": _returns(step.return_values)}
    return _single(step, scenario, items.delete_item, fields, key=True)


def _returns(value: str) -> str | None:
    return None if value == "NONE" else value


def _pages(value) -> int | None:
    return None if value == "all" else value


def _query(step: spec.QueryStep, scenario: Scenario) -> Request:
    expressions = _expressions(
        step, step.name, IndexName=step.index, KeyConditionExpression=step.key_condition, FilterExpression=step.filter,
        ProjectionExpression=step.projection, Select=step.select,
    )  # fmt: skip
    options = {"Limit": step.limit, "ScanIndexForward": None if step.forward else False, "ConsistentRead": step.consistent_read or None}
    options = {name: value for name, value in options.items() if value is not None}

    def build(fields: Fields, more) -> dict:
        return {"TableName": step.table, **expressions(fields), **options}

    return Request(build, partial(_send_query, pages=_pages(step.pages)))


def _send_query(client, request: dict, pages: int | None) -> OpResult:
    return reads.query(client, request, pages)


def _scan(step: spec.ScanStep, scenario: Scenario) -> Request:
    expressions = _expressions(
        step, step.name, IndexName=step.index, FilterExpression=step.filter, ProjectionExpression=step.projection, Select=step.select
    )
    options = {"Limit": step.limit, **({"ConsistentRead": True} if step.consistent_read else {})}

    def build(fields: Fields, more) -> dict:
        return {"TableName": step.table, **expressions(fields), **options}

    segments = step.segments if step.segments > 1 else None
    return Request(build, partial(_send_scan, pages=_pages(step.pages), segments=segments))


def _send_scan(client, request: dict, pages: int | None, segments: int | None) -> OpResult:
    return reads.scan(client, request, pages, segments)


def _distinct(elements: list[dict], identity: Callable[[dict], Any]) -> list[dict]:
    """Elements with distinct keys: DynamoDB refuses a batch or transaction naming one item twice."""
    seen, kept = set(), []
    for element in elements:
        marker = repr(identity(element))
        if marker not in seen:
            seen.add(marker)
            kept.append(element)
    return kept


def _batch_fields(step, fields: Fields, more: Callable[[], Fields]) -> list[Fields]:
    return [fields] + [more() for _ in range(step.batch - 1)]


def _batch_get_item(step: spec.BatchGetItemStep, scenario: Scenario) -> Request:
    key_of = _key_of(scenario, step.table, step.key, f"{step.name}.key")
    options = {"ProjectionExpression": step.projection, "ExpressionAttributeNames": dict(step.names) if step.names else None}
    options = {name: value for name, value in options.items() if value is not None}
    if step.consistent_read:
        options["ConsistentRead"] = True

    def build(fields: Fields, more) -> dict:
        keys = _distinct([key_of(bound) for bound in _batch_fields(step, fields, more)], lambda key: key)
        return {"RequestItems": {step.table: {"Keys": keys, **options}}}

    return Request(build, batches.batch_get_item)


def _batch_write_item(step: spec.BatchWriteItemStep, scenario: Scenario) -> Request:
    names = scenario.table(step.table).key.names()
    if step.delete:
        key_of = _key_of(scenario, step.table, step.key, f"{step.name}.key")

        def element(bound: Fields) -> dict:
            return {"DeleteRequest": {"Key": key_of(bound)}}

        def identity(request: dict) -> Any:
            return request["DeleteRequest"]["Key"]
    else:
        item_of = _item_of(step.item, f"{step.name}.item")

        def element(bound: Fields) -> dict:
            return {"PutRequest": {"Item": item_of(bound)}}

        def identity(request: dict) -> Any:
            return [request["PutRequest"]["Item"].get(name) for name in names]

    def build(fields: Fields, more) -> dict:
        requests = _distinct([element(bound) for bound in _batch_fields(step, fields, more)], identity)
        return {"RequestItems": {step.table: requests}}

    return Request(build, batches.batch_write_item)


def _transact_get_items(step: spec.TransactGetItemsStep, scenario: Scenario) -> Request:
    gets = [_transact_get(element.get, scenario, f"{step.name}.items[{i}]") for i, element in enumerate(step.items)]

    def build(fields: Fields, more) -> dict:
        return {"TransactItems": [{"Get": get(fields)} for get in gets]}

    return Request(build, transactions.transact_get_items)


def _transact_get(get: spec.TransactGet, scenario: Scenario, path: str) -> Callable[[Fields], dict]:
    key_of = _key_of(scenario, get.table, get.key, f"{path}.key")
    fixed = {"TableName": get.table}
    if get.projection:
        fixed["ProjectionExpression"] = get.projection
    if get.names:
        fixed["ExpressionAttributeNames"] = dict(get.names)
    return lambda fields: {**fixed, "Key": key_of(fields)}


TRANSACT_WRITE_ACTIONS = {"put": "Put", "update": "Update", "delete": "Delete", "condition_check": "ConditionCheck"}


def _transact_write_items(step: spec.TransactWriteItemsStep, scenario: Scenario) -> Request:
    writes = [_transact_write(element, scenario, f"{step.name}.items[{i}]") for i, element in enumerate(step.items)]

    def build(fields: Fields, more) -> dict:
        return {"TransactItems": [write(fields) for write in writes]}

    return Request(build, transactions.transact_write_items)


def _transact_write(element: spec.TransactWriteElement, scenario: Scenario, path: str) -> Callable[[Fields], dict]:
    action, kind = element.action, TRANSACT_WRITE_ACTIONS[element.kind]
    expressions = _expressions(action, path, UpdateExpression=action.update, ConditionExpression=action.condition)
    if element.kind == "put":
        item_of = _item_of(action.item, f"{path}.item")
        return lambda fields: {kind: {"TableName": action.table, "Item": item_of(fields), **expressions(fields)}}
    key_of = _key_of(scenario, action.table, action.key, f"{path}.key")
    return lambda fields: {kind: {"TableName": action.table, "Key": key_of(fields), **expressions(fields)}}


def _statement(statement: spec.Statement, path: str) -> Callable[[Fields], dict]:
    parameters = [compile_template(parameter, f"{path}.parameters[{i}]") for i, parameter in enumerate(statement.parameters)]

    def build(fields: Fields) -> dict:
        request = {"Statement": statement.statement}
        if parameters:
            request["Parameters"] = [to_wire(render(fields)) for render in parameters]
        return request

    return build


def _execute_statement(step: spec.ExecuteStatementStep, scenario: Scenario) -> Request:
    statement = _statement(step, step.name)
    options = {"ConsistentRead": True} if step.consistent_read else {}

    def build(fields: Fields, more) -> dict:
        return {**statement(fields), **options}

    return Request(build, partial(_send_statement, pages=_pages(step.pages)))


def _send_statement(client, request: dict, pages: int | None) -> OpResult:
    return statements.execute_statement(client, request, pages)


def _batch_execute_statement(step: spec.BatchExecuteStatementStep, scenario: Scenario) -> Request:
    built = [_statement(statement, f"{step.name}.statements[{i}]") for i, statement in enumerate(step.statements)]

    def build(fields: Fields, more) -> dict:
        if len(built) == 1:
            return {"Statements": _distinct([built[0](bound) for bound in _batch_fields(step, fields, more)], lambda statement: statement)}
        return {"Statements": [statement(fields) for statement in built]}

    return Request(build, statements.batch_execute_statement)


COMPILERS: dict[str, Callable[[Any, Scenario], Request]] = {
    "GetItem": _get_item,
    "PutItem": _put_item,
    "UpdateItem": _update_item,
    "DeleteItem": _delete_item,
    "Query": _query,
    "Scan": _scan,
    "BatchGetItem": _batch_get_item,
    "BatchWriteItem": _batch_write_item,
    "TransactGetItems": _transact_get_items,
    "TransactWriteItems": _transact_write_items,
    "ExecuteStatement": _execute_statement,
    "BatchExecuteStatement": _batch_execute_statement,
}
