"""BinaryOperatorAggregate: a key whose writes fold into its value (a reducer key)."""

from __future__ import annotations

import collections.abc
import sys
import typing
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, get_args, get_origin

from hitlgraph.channels._overwrite import NOT_OVERWRITE, Overwrite, overwritten
from hitlgraph.channels._single import HeldValue
from hitlgraph.channels.base import MISSING, BaseChannel, Value
from hitlgraph.errors import InvalidUpdateError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["BinaryOperatorAggregate", "Overwrite"]

_CONCRETE: dict[Any, type] = {
    collections.abc.Sequence: list, collections.abc.MutableSequence: list,
    collections.abc.Set: set, collections.abc.MutableSet: set,
    collections.abc.Mapping: dict, collections.abc.MutableMapping: dict,
}
"""Abstract collection types cannot be called for an empty value: their usual concrete type."""


def _required_forms() -> tuple[Any, ...]:
    """Required and NotRequired, typing's (3.11+) and typing_extensions' if it is loaded (an
    annotation holding one of its forms means it is; importing it costs more than this
    module)."""
    extensions = sys.modules.get("typing_extensions")
    return tuple(getattr(module, name) for module in (typing, extensions) if module is not None
                 for name in ("Required", "NotRequired") if hasattr(module, name))


def _plain(typ: Any) -> Any:
    """`typ` without Annotated, Required, NotRequired or type arguments (list[int] -> list)."""
    required = _required_forms()
    while (origin := get_origin(typ)) is not None:
        typ = get_args(typ)[0] if origin in required else origin
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
        """Fold the writes in, in order (an Overwrite among them sets the value instead).

        Raises:
            InvalidUpdateError: for two Overwrites in one step.
        """
        if not values:
            return False
        self.value = fold(self.operator, self.value, values, self.key)
        return True


def fold(operator: Callable[[Any, Any], Any], value: Any, writes: Sequence[Any], key: str
         ) -> Any:
    """`value` with a step's `writes` folded in by `operator`, in order; as in LangGraph, an
    Overwrite sets the value and drops the step's other writes after it (MISSING: the
    first write is the start).

    Raises:
        InvalidUpdateError: for two Overwrites of key `key` in one step.
    """
    seen = False
    for write in writes:
        replaced = overwritten(write)
        if replaced is not NOT_OVERWRITE:
            if seen:
                raise InvalidUpdateError(
                    f"Key '{key}' got two Overwrite writes in one step; it can take only one "
                    "per step. Write the value once, or let the reducer combine the writes."
                )
            value, seen = replaced, True
        elif not seen:
            value = write if value is MISSING else operator(value, write)
    return value
