"""Tasks for steps that name a DynamoDB operation (`op:`) or a chain of them (`chain:`).

A task binds the fields of one execution (the item it picked or made, `run.user`, what earlier
steps of its chain returned), builds the request (harness.ops.build) and sends it through
`DynamoDBUser._call`, the one timing path. A chain is reported per operation and as one `Chain`
row whose time is the sum of its operations'; it stops at its first failure.
"""

from __future__ import annotations

from array import array
from typing import Callable

from harness.datasets.distributions import make_chooser
from harness.datasets.template import TemplateItems
from harness.errors import DynamoDBError
from harness.metrics.results_files import CHAIN
from harness.ops.build import ITEM, Request, compile_request
from harness.ops.result import OpResult, Returned
from harness.ops.templates import DRAW, Fields, MissingField, from_wire
from harness.scenario import Scenario, TemplateDataset
from harness.scenario.operations import ChainStep, New, Pick
from harness.scenario.template import references
from harness.workload.users import DynamoDBUser

Task = Callable[[DynamoDBUser], None]


class MissingBinding(DynamoDBError):
    """A chain step needed a field an earlier step did not return (its item was not found)."""


class Catalog:
    """A process's view of the template datasets: their items by index, and the items its users made.

    A new item's index comes after the loaded ones, interleaved across workers (loaded +
    k * workers + worker), so no two users or workers make the same key. Once DynamoDB accepted
    it, it joins the items picks land on (in the order made, so `latest` favours the newest);
    items other workers made are theirs to read.
    """

    def __init__(self, scenario: Scenario):
        self._scenario = scenario
        self._items: dict[str, TemplateItems] = {}
        self._allocated: dict[tuple[str, str], int] = {}
        self._made: dict[tuple[str, str], array] = {}

    def items(self, table: str) -> TemplateItems:
        """The template dataset of `table` (built once per process)."""
        if table not in self._items:
            dataset = self._scenario.table(table).dataset
            assert isinstance(dataset, TemplateDataset), "validated: picks and news name template datasets"
            self._items[table] = TemplateItems(dataset, required_attributes=self._scenario.table(table).key.names())
        return self._items[table]

    def pickable(self, table: str, entity: str) -> int:
        """How many items a pick may land on: the loaded ones and the ones this process made."""
        return self.items(table).entity_count(entity) + len(self._made.get((table, entity), ()))

    def fields_at(self, table: str, entity: str, position: int, only: frozenset) -> Fields:
        """The fields in `only` (and what they depend on) of the item at `position` of the loaded
        items followed by the ones made here."""
        items = self.items(table)
        loaded = items.entity_count(entity)
        if position < loaded:
            return items.item_fields_at(entity, position, only)
        return items.new_item(entity, self._made[(table, entity)][position - loaded], only)[0]

    def new_index(self, table: str, entity: str, partition) -> int:
        """The index of a new item no other user or worker makes."""
        made = self._allocated.get((table, entity), 0)
        self._allocated[(table, entity)] = made + 1
        return self.items(table).entity_count(entity) + made * partition.count + partition.index

    def confirm(self, made: list[tuple[str, str, int]]) -> None:
        """Items DynamoDB accepted: from now on picks may land on them."""
        for table, entity, index in made:
            self._made.setdefault((table, entity), array("q")).append(index)


Bind = Callable[[DynamoDBUser, list], Fields]
"""Fields for one execution; a `new` records (table, entity, index) of the item it makes in the list."""


def binder(step, table: str, catalog: Catalog, scenario: Scenario) -> Bind:
    """The fields one execution of `step` starts with: its pick's or new item's, and `run.user`."""
    if step.pick is not None:
        return _picker(step.pick, step.pick.table or table, catalog, wanted_fields(step, scenario))
    if step.new is not None:
        return _maker(step.new, step.new.table or table, catalog)
    return lambda user, made: _run_fields(user)


def _run_fields(user: DynamoDBUser) -> Fields:
    return {"run.user": user.harness.partition.user_number(user.ordinal), DRAW: user.rng}


def _picker(pick: Pick, table: str, catalog: Catalog, wanted: frozenset) -> Bind:
    chooser = make_chooser(pick.distribution, theta=pick.theta, hot_data_fraction=pick.hot_data_fraction, hot_op_fraction=pick.hot_op_fraction)

    def bind(user: DynamoDBUser, made: list) -> Fields:
        position = chooser.next_index(user.rng, catalog.pickable(table, pick.entity))
        return {**catalog.fields_at(table, pick.entity, position, wanted), **_run_fields(user)}

    return bind


def wanted_fields(step, scenario: Scenario) -> frozenset:
    """The picked item's fields a step may read: every key attribute of the tables it touches (a
    default key) and every field its templates name; a pick renders only these."""
    operations = step.chain if isinstance(step, ChainStep) else (step,)
    wanted = {name for operation in operations for table in operation.tables() for name in scenario.table(table).key.names()}
    for text in _strings(step.model_dump()):
        wanted.update(field for field in references(text) if not field.startswith(("run.", "each.")))
    return frozenset(wanted)


def _strings(value) -> list[str]:
    """Every string with a {field} in a step's templates, however nested (PartiQL statements are not templates)."""
    if isinstance(value, str):
        return [value] if "{" in value else []
    if isinstance(value, dict):
        return [text for name, item in value.items() if name != "statement" for text in _strings(item)]
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in _strings(item)]
    return []


def _maker(new: New, table: str, catalog: Catalog) -> Bind:
    def bind(user: DynamoDBUser, made: list) -> Fields:
        index = catalog.new_index(table, new.entity, user.harness.partition)
        fields, item = catalog.items(table).new_item(new.entity, index)
        made.append((table, new.entity, index))
        return {**fields, ITEM: item, **_run_fields(user)}

    return bind


def operation_task(step, scenario: Scenario, catalog: Catalog) -> Task:
    """One operation per task run: bind, build, send through the user's one timing path."""
    request = compile_request(step, scenario)
    bind = binder(step, step.tables()[0], catalog, scenario)

    def once(user: DynamoDBUser) -> None:
        made: list = []
        built = request.build(bind(user, made), lambda: bind(user, made))
        result = user._call(step.op, step.name, request.send, built)
        if result is not None and made and not result.value.unprocessed:
            catalog.confirm(made)

    return _repeated(once, step.repeat)


def _repeated(once: Task, times: int) -> Task:
    """`once` run `times` times per task run."""
    if times == 1:
        return once

    def run(user: DynamoDBUser) -> None:
        for _ in range(times):
            once(user)

    return run


def chain_task(step: ChainStep, scenario: Scenario, catalog: Catalog) -> Task:
    """The chain's operations in order, each bound to the chain's fields and to what earlier ones returned."""
    links = [(operation, compile_request(operation, scenario)) for operation in step.chain]
    chain_bind = binder(step, step.tables()[0], catalog, scenario)
    own_binds = {
        operation.name: binder(operation, operation.tables()[0], catalog, scenario) for operation in step.chain if operation.pick or operation.new
    }

    def once(user: DynamoDBUser) -> None:
        made: list = []
        fields, total = chain_bind(user, made), OpResult(value=Returned())
        for operation, request in links:
            own = own_binds.get(operation.name)
            bound = {**fields, **own(user, made)} if own else fields
            more = _further(bound, fields, own, user, made)
            results = _run_link(user, operation, request, bound, fields, more)
            if results is None:
                user._fire_composite(CHAIN, step.name, total.elapsed_ms, total, user.last_failure)
                return
            for result in results:
                total.elapsed_ms += result.elapsed_ms
                total.merge(result)
                total.value.unprocessed += result.value.unprocessed
            fields.update(returned_fields(operation.name, results))
        if not total.value.unprocessed:
            catalog.confirm(made)  # items made by a chain become pickable once the whole chain went through
        user._fire_composite(CHAIN, step.name, total.elapsed_ms, total)

    return _repeated(once, step.repeat)


def _further(bound: Fields, fields: Fields, own: Bind | None, user: DynamoDBUser, made: list) -> Callable[[], Fields]:
    """Fields for a batch's further elements: a fresh pick (or new item) each when the operation has its own."""
    if own is None:
        return lambda: bound
    return lambda: {**fields, **own(user, made)}


def _run_link(user: DynamoDBUser, operation, request: Request, bound: Fields, fields: Fields, more: Callable[[], Fields]) -> list[OpResult] | None:
    """One operation of a chain (once per item of `for_each`); None when it failed or could not be built."""
    each = [{}] if operation.for_each is None else [_prefixed("each", item) for item in fields.get(f"{operation.for_each}.items", [])]
    results = []
    for extra in each:
        try:
            built = request.build({**bound, **extra}, more)
        except MissingField as missing:
            user.last_failure = MissingBinding("MissingBinding", f"{operation.name}: no {missing.args[0]} (an earlier step returned no item)")
            return None
        result = user._call(operation.op, operation.name, request.send, built)
        if result is None:
            return None
        results.append(result)
    return results


def returned_fields(name: str, results: list[OpResult]) -> Fields:
    """What an operation returned, bound for later steps: `name.attr` of its first item (or its
    ReturnValues attributes) and `name.items`, the items a `for_each` step walks."""
    items = [item for result in results for item in result.value.items]
    first = items[0] if items else next((result.value.attributes for result in results if result.value.attributes), None)
    fields: Fields = {f"{name}.items": items}
    if first:
        fields.update(_prefixed(name, first))
    return fields


def _prefixed(prefix: str, item: dict) -> Fields:
    return {f"{prefix}.{attribute}": from_wire(value) for attribute, value in item.items()}
