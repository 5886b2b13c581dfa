"""What a method declares to join REST 3.0: its entity's fields and what each
field allows. The query parser, the ``*.field.*`` answers and the OpenAPI document
are all read from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: The types the query parser knows how to read a filter value as.
FieldType = Literal["int", "bool", "string", "datetime"]

COMPARISONS = frozenset({"=", "!=", ">", ">=", "<", "<=", "in", "between"})


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    #: How values are read and compared.
    kind: FieldType
    #: The type ``*.field.list`` reports (the real service says "object" for dates).
    shown_type: str
    #: The column behind it, for the store; "" for a computed field.
    column: str = ""
    #: Filter operators the field accepts; empty: not filterable.
    operators: frozenset[str] = frozenset()
    sortable: bool = False

    @property
    def filterable(self) -> bool:
        return bool(self.operators)


@dataclass(frozen=True, slots=True)
class Entity:
    """An object REST 3.0 returns (``RecordDto``), by its fields in answer order."""

    name: str
    fields: tuple[Field, ...]
    #: Whether ``select`` may name a field the entity lacks (ignored if so). The
    #: overview says yes for entities; the ``*.field.*`` pages refuse unknown ones.
    lenient_select: bool = True
    #: How "Unknown field `x` for … `Name`" calls it: the overview's example says
    #: "entity", the ``*.field.*`` pages' examples say "object".
    noun: str = "entity"
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})


@dataclass(frozen=True, slots=True)
class V3Spec:
    """A registry entry's REST 3.0 side."""

    #: The OpenAPI tag (module) the method is listed under.
    tag: str
    #: The entity its answer holds, if any.
    entity: Entity | None = None
    #: Top-level parameters it reads, for the OpenAPI document.
    parameters: tuple[str, ...] = ()
    #: Whether its answer is a list (``items``) rather than one ``item``.
    listing: bool = False
    #: Whether its body may be a JSON array at the root (batch: its calls).
    array_body: bool = False
