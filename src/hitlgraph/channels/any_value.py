"""AnyValue: a key that takes any number of writes in a step, all assumed equal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic

from hitlgraph.channels._single import SingleValue
from hitlgraph.channels.base import Value

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["AnyValue"]


class AnyValue(Generic[Value], SingleValue[Value]):
    """Keeps the last of a step's writes (meant for writers that agree), and is empty again
    after a step that wrote none."""

    __slots__ = ()

    def __init__(self, typ: Any, key: str = "") -> None:
        super().__init__(typ, guard=False)
        self.key = key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnyValue)

    __hash__ = SingleValue.__hash__

    def _blank(self) -> Self:
        return self.__class__(self.typ)

    def update(self, values: Sequence[Value]) -> bool:
        """Keep the last write, or clear the value when the step wrote none."""
        return self._take(values, clear=True)  # (guard is False: any number of writes)
