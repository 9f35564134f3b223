"""BinaryOperatorAggregate: a key whose writes fold into its value (a reducer key)."""

from __future__ import annotations

import collections.abc
from collections.abc import Callable, Sequence
from typing import Any, get_args, get_origin

from typing_extensions import NotRequired, Required, Self

from hitlgraph.channels._single import HeldValue
from hitlgraph.channels.base import MISSING, BaseChannel, Value

__all__ = ["BinaryOperatorAggregate"]

_CONCRETE: dict[Any, type] = {
    collections.abc.Sequence: list, collections.abc.MutableSequence: list,
    collections.abc.Set: set, collections.abc.MutableSet: set,
    collections.abc.Mapping: dict, collections.abc.MutableMapping: dict,
}
"""Abstract collection types cannot be called for an empty value: their usual concrete type."""


def _plain(typ: Any) -> Any:
    """`typ` without Annotated, Required, NotRequired or type arguments (list[int] -> list)."""
    while (origin := get_origin(typ)) is not None:
        typ = get_args(typ)[0] if origin in (Required, NotRequired) else origin
        if hasattr(typ, "__metadata__"):
            typ = typ.__origin__
    return typ


def empty_value(typ: Any) -> Any:
    """The value a fold starts from: `typ()` when the type can make one, else MISSING."""
    plain = _plain(typ)
    plain = _CONCRETE.get(plain, plain)
    try:
        return plain()
    except Exception:
        return MISSING


class BinaryOperatorAggregate(HeldValue[Value]):
    """Folds each write into the value with `operator(value, write)`.

    The value starts as `typ()` when the type can make one (list -> []), else as the first
    write, e.g. `total: Annotated[int, BinaryOperatorAggregate(int, operator.add)]`.
    """

    __slots__ = ("operator",)

    def __init__(self, typ: Any, operator: Callable[[Value, Value], Value]) -> None:
        super().__init__(typ)
        self.operator = operator
        self.value = empty_value(typ)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BinaryOperatorAggregate):
            return False
        # lambdas cannot be told apart by name: any pairing with one counts as equal
        names = (getattr(self.operator, "__name__", ""), getattr(other.operator, "__name__", ""))
        return "<lambda>" in names or self.operator is other.operator

    __hash__ = BaseChannel.__hash__

    def _blank(self) -> Self:
        return self.__class__(self.typ, self.operator)

    def update(self, values: Sequence[Value]) -> bool:
        """Fold the writes in, in order."""
        if not values:
            return False
        if self.value is MISSING:
            self.value, values = values[0], values[1:]
        for value in values:
            self.value = self.operator(self.value, value)
        return True
