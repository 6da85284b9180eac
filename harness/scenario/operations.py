"""Workload steps that name a DynamoDB operation, written as DynamoDB writes its requests.

A step says which operation it sends (`op`), to which table, with which expressions (`#name` and
`:value` placeholders as DynamoDB has them), and where its values come from: literals, format
strings over bound fields (`"USER#{user_id}"`), or generators (`{integer: {min: 1, max: 9}}`).
Bound fields are the attributes of the item the step picked (`pick`) or made (`new`), the results
of earlier steps of a chain (`{acquire.owner}`), the item a `for_each` step is on (`{each.sk}`) and
`{run.user}`, a number unique to each simulated user of the run.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, model_validator

from harness.scenario.base import FromList, Spec

STEP_NAME_PATTERN = r"^[A-Za-z0-9_.:#\-]+$"
ReturnValues = Literal["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]
Pages = Union[int, Literal["all"]]


class Pick(Spec):
    """Which loaded item a step is about: an entity of a template dataset and a key distribution."""

    entity: str
    table: str | None = None
    """The table whose dataset holds the entity (default: the step's table)."""
    distribution: Literal["uniform", "zipfian", "hotspot", "latest", "sequential"] = "uniform"
    theta: float = Field(0.99, gt=0, lt=1)
    """zipfian and latest: the skew (0 < theta < 1; YCSB's default 0.99)."""
    hot_data_fraction: float = Field(0.2, gt=0, le=1)
    """hotspot: the share of keys that is hot."""
    hot_op_fraction: float = Field(0.8, gt=0, le=1)
    """hotspot: the share of picks that go to the hot keys."""


class New(Spec):
    """A new item of an entity, with a key no other user or worker makes; later picks can read it."""

    entity: str
    table: str | None = None


Values = dict[str, Any]
"""ExpressionAttributeValues or an item/key: name -> literal, format string or generator."""


class OpBase(Spec):
    """Fields every operation step has."""

    task: Literal["operation"] = "operation"
    """Set by the loader for a mix entry with `op:` (it tells operations from built-in tasks)."""
    name: str = Field(pattern=STEP_NAME_PATTERN)
    weight: int = Field(1, ge=1)
    repeat: int = Field(1, ge=1)
    """Executions per task run, back to back (each with its own pick), as walk_ring's `steps`:
    spares Locust's scheduling per request; the wait time applies between task runs."""
    pick: Pick | None = None
    new: New | None = None
    for_each: str | None = None
    """In a chain: run this operation once per item an earlier step returned (bound as `each`)."""

    @model_validator(mode="after")
    def _pick_or_new(self) -> OpBase:
        if self.pick is not None and self.new is not None:
            raise ValueError("expected pick or new, found both")
        return self

    @property
    def step_name(self) -> str:
        """The logical step name in the stats."""
        return self.name

    def tables(self) -> tuple[str, ...]:
        """The tables this step sends requests to."""
        return (self.table,)  # type: ignore[attr-defined]


class Expressions(Spec):
    """ExpressionAttributeNames and Values shared by a request's expressions."""

    names: dict[str, str] | None = None
    values: Values | None = None


class GetItemStep(OpBase, Expressions):
    """GetItem of one item (default key: the picked item's)."""

    op: Literal["GetItem"]
    table: str
    key: Values | None = None
    projection: str | None = None
    consistent_read: bool = False


class PutItemStep(OpBase, Expressions):
    """PutItem of a whole item (default item: the new one, with `new`)."""

    op: Literal["PutItem"]
    table: str
    item: Values | None = None
    condition: str | None = None
    return_values: Literal["NONE", "ALL_OLD"] = "NONE"


class UpdateItemStep(OpBase, Expressions):
    """UpdateItem with an update expression (default key: the picked item's)."""

    op: Literal["UpdateItem"]
    table: str
    key: Values | None = None
    update: str
    condition: str | None = None
    return_values: ReturnValues = "NONE"


class DeleteItemStep(OpBase, Expressions):
    """DeleteItem of one item (default key: the picked item's)."""

    op: Literal["DeleteItem"]
    table: str
    key: Values | None = None
    condition: str | None = None
    return_values: Literal["NONE", "ALL_OLD"] = "NONE"


class QueryStep(OpBase, Expressions):
    """Query of a table or index: key condition, filter, projection, limit, pages, direction."""

    op: Literal["Query"]
    table: str
    index: str | None = None
    key_condition: str
    filter: str | None = None
    projection: str | None = None
    select: Literal["ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"] | None = None
    limit: int | None = Field(None, ge=1)
    pages: Pages = 1
    """How many pages one request reads (`all`: every page)."""
    forward: bool = True
    consistent_read: bool = False


class ScanStep(OpBase, Expressions):
    """Scan of a table or index, optionally in parallel segments, every page by default."""

    op: Literal["Scan"]
    table: str
    index: str | None = None
    filter: str | None = None
    projection: str | None = None
    select: Literal["ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"] | None = None
    limit: int = Field(1000, ge=1)
    """Items per page (DynamoDB Local takes seconds per page without a Limit on a large table)."""
    pages: Pages = "all"
    segments: int = Field(1, ge=1, le=1_000_000)
    consistent_read: bool = False


class BatchGetItemStep(OpBase):
    """BatchGetItem of `batch` items, each from its own pick (default key: the picked item's)."""

    op: Literal["BatchGetItem"]
    table: str
    batch: int = Field(25, ge=1, le=100)
    key: Values | None = None
    projection: str | None = None
    names: dict[str, str] | None = None
    consistent_read: bool = False


class BatchWriteItemStep(OpBase):
    """BatchWriteItem of `batch` requests: new items put (`new`), or picked items deleted (`delete: true`)."""

    op: Literal["BatchWriteItem"]
    table: str
    batch: int = Field(25, ge=1, le=25)
    item: Values | None = None
    key: Values | None = None
    delete: bool = False


class TransactGet(Spec):
    """One Get of a TransactGetItems."""

    table: str
    key: Values | None = None
    projection: str | None = None
    names: dict[str, str] | None = None


class TransactGetElement(Spec):
    """An element of TransactGetItems."""

    get: TransactGet


class TransactWrite(Expressions):
    """One Put, Update, Delete or ConditionCheck of a TransactWriteItems."""

    table: str
    key: Values | None = None
    item: Values | None = None
    update: str | None = None
    condition: str | None = None


class TransactWriteElement(Spec):
    """An element of TransactWriteItems: exactly one of put, update, delete, condition_check."""

    put: TransactWrite | None = None
    update: TransactWrite | None = None
    delete: TransactWrite | None = None
    condition_check: TransactWrite | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> TransactWriteElement:
        chosen = [kind for kind in TRANSACT_WRITE_KINDS if getattr(self, kind) is not None]
        if len(chosen) != 1:
            raise ValueError(f"expected exactly one of {', '.join(TRANSACT_WRITE_KINDS)}, found {chosen or 'none'}")
        return self

    @property
    def kind(self) -> str:
        """put, update, delete or condition_check."""
        return next(kind for kind in TRANSACT_WRITE_KINDS if getattr(self, kind) is not None)

    @property
    def action(self) -> TransactWrite:
        """The element's one action."""
        return getattr(self, self.kind)


TRANSACT_WRITE_KINDS = ("put", "update", "delete", "condition_check")


class TransactGetItemsStep(OpBase):
    """TransactGetItems of up to 100 gets."""

    op: Literal["TransactGetItems"]
    items: Annotated[tuple[TransactGetElement, ...], FromList] = Field(min_length=1, max_length=100)

    def tables(self) -> tuple[str, ...]:
        """The tables this step reads."""
        return tuple(dict.fromkeys(element.get.table for element in self.items))


class TransactWriteItemsStep(OpBase):
    """TransactWriteItems of up to 100 puts, updates, deletes and condition checks."""

    op: Literal["TransactWriteItems"]
    items: Annotated[tuple[TransactWriteElement, ...], FromList] = Field(min_length=1, max_length=100)

    def tables(self) -> tuple[str, ...]:
        """The tables this step writes or checks."""
        return tuple(dict.fromkeys(element.action.table for element in self.items))


class Statement(Spec):
    """A PartiQL statement with `?` parameters."""

    statement: str = Field(min_length=1)
    parameters: Annotated[tuple[Any, ...], FromList] = ()


class ExecuteStatementStep(OpBase, Statement):
    """ExecuteStatement: one PartiQL statement, `pages` pages for a SELECT."""

    op: Literal["ExecuteStatement"]
    table: str
    """The table the statement is about (for picks and reports)."""
    pages: Pages = 1
    consistent_read: bool = False


class BatchExecuteStatementStep(OpBase):
    """BatchExecuteStatement: the statements in order; with one statement and `batch`, it repeated with fresh picks."""

    op: Literal["BatchExecuteStatement"]
    table: str
    statements: Annotated[tuple[Statement, ...], FromList] = Field(min_length=1, max_length=25)
    batch: int = Field(1, ge=1, le=25)


Operation = Annotated[
    Union[
        GetItemStep, PutItemStep, UpdateItemStep, DeleteItemStep, QueryStep, ScanStep, BatchGetItemStep,
        BatchWriteItemStep, TransactGetItemsStep, TransactWriteItemsStep, ExecuteStatementStep, BatchExecuteStatementStep,
    ],
    Field(discriminator="op"),
]  # fmt: skip
OPERATIONS = (
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
    "TransactGetItems", "TransactWriteItems", "ExecuteStatement", "BatchExecuteStatement",
)  # fmt: skip
# Operations whose answer carries items a later step of a chain can bind.
# The `task` the loader gives a mix entry written with `op:` or `chain:`, so one tagged union holds every step.
OPERATION_TASK, CHAIN_TASK = "operation", "chain-step"
RETURNS_ITEMS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems", "ExecuteStatement"})


class ChainStep(Spec):
    """A short sequence of operations, later ones using what earlier ones returned, reported per
    operation and as one `Chain` row; it stops at the first failure."""

    task: Literal["chain-step"] = "chain-step"
    """Set by the loader for a mix entry with `chain:`."""
    chain: Annotated[tuple[Operation, ...], FromList] = Field(min_length=1, max_length=50)
    name: str = Field(pattern=STEP_NAME_PATTERN)
    weight: int = Field(1, ge=1)
    repeat: int = Field(1, ge=1)
    """Whole chains per task run, back to back."""
    pick: Pick | None = None
    """A pick every operation of the chain shares (an operation's own pick or new takes precedence)."""
    new: New | None = None

    @property
    def step_name(self) -> str:
        """The composite row's name."""
        return self.name

    def tables(self) -> tuple[str, ...]:
        """The tables the chain's operations touch."""
        return tuple(dict.fromkeys(table for operation in self.chain for table in operation.tables()))
