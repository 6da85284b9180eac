"""Rules an operation step must keep that span the scenario: tables, indexes, keys, placeholders,
bound fields and chains. Each returns the first problem as 'path: message', or None.

Runs while the scenario loads, before anything connects: every mistake DynamoDB would answer
with a ValidationException on each request, and every template that could not be filled, is
found once here instead.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from harness.scenario import operations as spec
from harness.scenario.expressions import check_placeholders, key_condition_attributes, partiql_parameter_count, reserved_names
from harness.scenario.template import GENERATORS, VALUE_OPTIONS, ValueSpec, references

RUN_FIELDS = ("run.user",)
"""Fields every execution has: a number unique to the simulated user across the run."""


def is_generator(value: Any) -> bool:
    """A mapping naming one value generator ({integer: {...}}, {uuid: {}}), not a map attribute value."""
    if not isinstance(value, dict):
        return False
    chosen = [key for key in value if key not in VALUE_OPTIONS]
    return len(chosen) == 1 and chosen[0] in GENERATORS


def check_step(scenario, step, path: str) -> str | None:
    """The first problem of an `op:` or `chain:` step of the mix."""
    if isinstance(step, spec.ChainStep):
        return _check_chain(scenario, step, path)
    return _check_operation(scenario, step, path, Context(scenario, step))


class Context:
    """What an operation's templates may refer to: its item's fields, `run.*`, earlier steps of its chain."""

    def __init__(self, scenario, step, chain: spec.ChainStep | None = None, earlier: tuple = ()):
        self.scenario = scenario
        self.bound = step.pick or step.new or (chain.pick or chain.new if chain else None)
        self.table = step.tables()[0] if not isinstance(step, spec.ChainStep) else None
        self.earlier = {operation.name: operation for operation in earlier}
        self.each = step.for_each if not isinstance(step, spec.ChainStep) else None

    def entity(self, default_table: str):
        """(table name, EntitySpec) of the step's pick or new, or None."""
        if self.bound is None:
            return None
        table = self.bound.table or default_table
        return table, self.scenario.table(table).dataset.entity(self.bound.entity)


def _check_chain(scenario, chain: spec.ChainStep, path: str) -> str | None:
    problem = _check_bound(scenario, chain, chain.chain[0].tables()[0], path)
    if problem:
        return problem
    names: set[str] = set()
    for k, operation in enumerate(chain.chain):
        where = f"{path}.chain[{k}]"
        if operation.name in names:
            return f"{where}.name: step name {operation.name!r} is used twice in the chain"
        if operation.repeat != 1:
            return f"{where}.repeat: an operation of a chain runs once per chain (set repeat on the chain), found {operation.repeat}"
        names.add(operation.name)
        problem = _check_operation(scenario, operation, where, Context(scenario, operation, chain, chain.chain[:k]))
        if problem:
            return problem
    return None


def _check_operation(scenario, step, path: str, context: Context) -> str | None:
    for check in (_check_tables, _check_bound_step, _check_for_each, _check_requests):
        problem = check(scenario, step, path, context)
        if problem:
            return problem
    return None


def _check_tables(scenario, step, path: str, context: Context) -> str | None:
    names = [table.name for table in scenario.tables]
    for where, table in _table_fields(step, path):
        if table not in names:
            return f"{where}: expected one of the scenario's tables ({', '.join(names)}), found {table!r}"
    index = getattr(step, "index", None)
    if index is not None and scenario.table(step.table).index_key(index) is None:
        table = scenario.table(step.table)
        known = ", ".join(table.index_names()) or "none"
        return f"{path}.index: table {step.table!r} has no index {index!r} (its {'indexes' if table.lsis else 'GSIs'}: {known})"
    return None


def _table_fields(step, path: str) -> list[tuple[str, str]]:
    if isinstance(step, spec.TransactGetItemsStep):
        return [(f"{path}.items[{i}].get.table", element.get.table) for i, element in enumerate(step.items)]
    if isinstance(step, spec.TransactWriteItemsStep):
        return [(f"{path}.items[{i}].{element.kind}.table", element.action.table) for i, element in enumerate(step.items)]
    return [(f"{path}.table", step.table)]


def _check_bound_step(scenario, step, path: str, context: Context) -> str | None:
    return _check_bound(scenario, step, step.tables()[0], path)


def _check_bound(scenario, step, default_table: str, path: str) -> str | None:
    """A pick or new names a table with a template dataset and one of its entities."""
    for field in ("pick", "new"):
        bound = getattr(step, field)
        if bound is None:
            continue
        table = bound.table or default_table
        if table not in [spec_table.name for spec_table in scenario.tables]:
            return f"{path}.{field}.table: expected one of the scenario's tables, found {table!r}"
        dataset = scenario.table(table).dataset
        if dataset is None or dataset.model != "template":
            return f"{path}.{field}: table {table!r} needs a dataset with model template to {field} an {bound.entity!r} item from"
        entities = [entity.name for entity in dataset.entities]
        if bound.entity not in entities:
            return f"{path}.{field}.entity: expected an entity of table {table!r}'s dataset ({', '.join(entities)}), found {bound.entity!r}"
        if field == "new" and dataset.entity(bound.entity).source is not None:
            return f"{path}.new.entity: entity {bound.entity!r} is fed by a source file, which has no row for a new item"
    return None


def _check_for_each(scenario, step, path: str, context: Context) -> str | None:
    if step.for_each is None:
        return None
    earlier = context.earlier.get(step.for_each)
    if earlier is None:
        known = ", ".join(context.earlier) or "none"
        return f"{path}.for_each: expected an earlier step of the chain (earlier: {known}), found {step.for_each!r}"
    if earlier.op not in spec.RETURNS_ITEMS:
        return f"{path}.for_each: step {step.for_each!r} is {earlier.op}, which returns no items to walk"
    return None


# ---- requests -----------------------------------------------------------------------------------


def _check_requests(scenario, step, path: str, context: Context) -> str | None:
    """Each request the step sends: its key or item, placeholders, key condition, parameters, templates."""
    for where, request in _requests(step, path):
        problem = (
            _check_key_or_item(scenario, request, where, context)
            or _check_placeholders(request, where)
            or _check_reserved_words(request, where)
            or _check_key_condition(scenario, request, where)
            or _check_parameters(request, where)
            or _check_templates(scenario, request, where, context)
        )
        if problem:
            return problem
    return None


def _requests(step, path: str) -> list[tuple[str, Any]]:
    """(path, spec object) of every request a step makes: itself, or each element of a transaction or batch."""
    if isinstance(step, spec.TransactGetItemsStep):
        return [(f"{path}.items[{i}].get", element.get) for i, element in enumerate(step.items)]
    if isinstance(step, spec.TransactWriteItemsStep):
        return [(f"{path}.items[{i}].{element.kind}", _Action(element)) for i, element in enumerate(step.items)]
    if isinstance(step, spec.BatchExecuteStatementStep):
        return [(f"{path}.statements[{i}]", statement) for i, statement in enumerate(step.statements)]
    return [(path, step)]


class _Action:
    """A transaction write element seen as a request: its action's fields and what it needs."""

    def __init__(self, element: spec.TransactWriteElement):
        self.kind = element.kind
        action = element.action
        self.table, self.key, self.item, self.names, self.values = action.table, action.key, action.item, action.names, action.values
        self.expressions = {"update": action.update, "condition": action.condition}

    def needs(self) -> str:
        return "item" if self.kind == "put" else "key"


KEYED = (spec.GetItemStep, spec.UpdateItemStep, spec.DeleteItemStep, spec.BatchGetItemStep, spec.TransactGet)


def _needs(request) -> str | None:
    """'key', 'item' or None: what identifies the item this request touches."""
    if isinstance(request, _Action):
        return request.needs()
    if isinstance(request, KEYED):
        return "key"
    if isinstance(request, spec.PutItemStep):
        return "item"
    if isinstance(request, spec.BatchWriteItemStep):
        return "key" if request.delete else "item"
    return None


def _check_key_or_item(scenario, request, path: str, context: Context) -> str | None:
    needs = _needs(request)
    if needs is None:
        return None
    table = scenario.table(request.table)
    template = request.key if needs == "key" else request.item
    if template is None:
        if needs == "key" and context.bound is None:
            return f"{path}.key: required (or pick an item whose key it is)"
        if needs == "item" and (context.bound is None or not isinstance(context.bound, spec.New)):
            return f"{path}.item: required (or make a new item with new: {{entity: ...}})"
        return None
    names = table.key.names()
    missing = [name for name in names if name not in template]
    if missing:
        return f"{path}.{needs}: expected the key attributes of table {table.name!r} ({', '.join(names)}), {', '.join(missing)} missing"
    if needs == "key":
        extra = [name for name in template if name not in names]
        if extra:
            return f"{path}.key: expected only the key attributes of table {table.name!r} ({', '.join(names)}), found {', '.join(extra)}"
    for name in names:
        problem = _literal_type_problem(template[name], table.attributes[name])
        if problem:
            return f"{path}.{needs}.{name}: key attribute {name!r} is {table.attributes[name]}, {problem}"
    return None


def _literal_type_problem(value: Any, kind: str) -> str | None:
    """Why a literal key value cannot be of DynamoDB type `kind`, or None (templates are typed when bound)."""
    if isinstance(value, str) and ("{" in value or is_generator(value)):
        return None
    if isinstance(value, dict):
        return None if is_generator(value) else f"found a map {value!r}"
    if kind == "N" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        if not (isinstance(value, str) and _is_number(value)):
            return f"found {value!r}, which is not a number"
    if kind == "S" and not isinstance(value, str):
        return f"found {value!r}, which is not a string"
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_placeholders(request, path: str) -> str | None:
    expressions = _expressions_of(request)
    if not expressions:
        return None
    problem = check_placeholders(expressions, getattr(request, "names", None), getattr(request, "values", None))
    return f"{path}.{_field_of(problem)}: {problem}" if problem else None


def _check_reserved_words(request, path: str) -> str | None:
    """A reserved word as a bare attribute name: DynamoDB refuses every such request (ValidationException)."""
    for label, expression in _expressions_of(request).items():
        reserved = reserved_names(expression)
        if reserved:
            name = reserved[0]
            return f"{path}.{label}: {name!r} is a DynamoDB reserved word; write #{name} in the expression and names: {{'#{name}': {name}}}"
    return None


def _field_of(problem: str) -> str:
    return "names" if problem.startswith("ExpressionAttributeNames") else "values"


EXPRESSION_FIELDS = ("key_condition", "filter", "projection", "update", "condition")


def _expressions_of(request) -> dict[str, str]:
    if isinstance(request, _Action):
        return {label: text for label, text in request.expressions.items() if text}
    return {field: getattr(request, field) for field in EXPRESSION_FIELDS if getattr(request, field, None)}


def _check_key_condition(scenario, request, path: str) -> str | None:
    if not isinstance(request, spec.QueryStep):
        return None
    table = scenario.table(request.table)
    key = table.index_key(request.index) if request.index else table.key
    compared = key_condition_attributes(request.key_condition, request.names)
    where = f"index {request.index!r}" if request.index else f"table {table.name!r}"
    if key.hash not in compared:
        return f"{path}.key_condition: expected a condition on {where}'s partition key {key.hash!r}, found one on {', '.join(compared) or 'nothing'}"
    others = [name for name in compared if name not in key.names()]
    if others:
        return f"{path}.key_condition: {', '.join(others)} is not a key attribute of {where} (its keys: {', '.join(key.names())}); use filter"
    return None


def _check_parameters(request, path: str) -> str | None:
    if not isinstance(request, spec.Statement):
        return None
    wanted = partiql_parameter_count(request.statement)
    if wanted != len(request.parameters):
        return f"{path}.parameters: the statement has {wanted} ? placeholder(s), found {len(request.parameters)} parameter(s)"
    return None


# ---- templates and the fields they read ---------------------------------------------------------


def _check_templates(scenario, request, path: str, context: Context) -> str | None:
    for where, value in _template_values(request, path):
        if is_generator(value):
            problem = _generator_problem(value)
            if problem:
                return f"{where}: {problem}"
            continue
        for reference in _references(value):
            problem = _reference_problem(scenario, reference, context, getattr(request, "table", None))
            if problem:
                return f"{where}: {{{reference}}} {problem}"
    return None


def _template_values(request, path: str) -> list[tuple[str, Any]]:
    found = []
    for field in ("key", "item", "values"):
        for name, value in (getattr(request, field, None) or {}).items():
            found.extend(_nested(value, f"{path}.{field}.{name}"))
    for i, value in enumerate(getattr(request, "parameters", ()) or ()):
        found.extend(_nested(value, f"{path}.parameters[{i}]"))
    return found


def _nested(value: Any, path: str) -> list[tuple[str, Any]]:
    if isinstance(value, dict) and not is_generator(value):
        return [pair for name, item in value.items() for pair in _nested(item, f"{path}.{name}")]
    if isinstance(value, (list, tuple)):
        return [pair for i, item in enumerate(value) for pair in _nested(item, f"{path}[{i}]")]
    return [(path, value)]


def _references(value: Any) -> tuple[str, ...]:
    if not isinstance(value, str) or "{" not in value:
        return ()
    return references(value)


def _generator_problem(value: dict) -> str | None:
    try:
        ValueSpec.model_validate(value)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        return f"{where + ': ' if where else ''}{message}"
    return None


def _reference_problem(scenario, reference: str, context: Context, table: str | None) -> str | None:
    """Why a bound field cannot be filled when the step runs, or None."""
    head, _, rest = reference.partition(".")
    if reference in RUN_FIELDS:
        return None
    if head == "each":
        return None if context.each else "needs for_each (each.<attribute> is the item a for_each step is on)"
    if head in context.earlier:
        return _returned_problem(context.earlier[head], rest)
    entity = context.entity(table or context.table)
    if entity is None:
        return "refers to a field, but the step picks no item (add pick: or new:), and no earlier step of a chain is called " + repr(head)
    table_name, entity_spec = entity
    known = set(entity_spec.attributes) | {"index"} | ({"child"} if entity_spec.parent else set())
    if head in ("parent", "row") and rest:
        return None if (head == "parent" and entity_spec.parent) or (head == "row" and entity_spec.source) else f"is not a field of entity {entity_spec.name!r}"
    if reference in known:
        return None
    return f"is not a field of entity {entity_spec.name!r} of table {table_name!r} (its fields: {', '.join(sorted(known))})"


def _returned_problem(earlier, attribute: str) -> str | None:
    """A chain step can read what an earlier one returned: items, or attributes asked for with return_values."""
    returns_attributes = getattr(earlier, "return_values", "NONE") != "NONE"
    if earlier.op not in spec.RETURNS_ITEMS and not returns_attributes:
        return f"refers to what step {earlier.name!r} returned, but {earlier.op} returns nothing here (set return_values on it)"
    projection = getattr(earlier, "projection", None)
    if projection and attribute:
        names = getattr(earlier, "names", None) or {}
        projected = {names.get(part.strip(), part.strip()) for part in projection.split(",")}
        if attribute.split(".")[0] not in projected:
            return f"refers to {attribute!r}, which step {earlier.name!r} does not project (it projects: {', '.join(sorted(projected))})"
    return None
