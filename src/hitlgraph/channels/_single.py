"""What the channels that hold one plain value share: storage, reads and the copy rules."""

from __future__ import annotations

from typing import Any, Generic

from typing_extensions import Self

from hitlgraph.channels.base import MISSING, BaseChannel, Value
from hitlgraph.errors import EmptyChannelError, InvalidUpdateError


class SingleValue(Generic[Value], BaseChannel[Value, Value, Value]):
    """A channel holding one value or none, made again from (typ, guard)."""

    __slots__ = ("guard", "value")

    def __init__(self, typ: Any, guard: bool = True) -> None:
        super().__init__(typ)
        self.guard = guard
        self.value: Any = MISSING

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.guard == self.guard

    __hash__ = BaseChannel.__hash__

    @property
    def ValueType(self) -> Any:
        """The type given to the channel."""
        return self.typ

    @property
    def UpdateType(self) -> Any:
        """The type given to the channel."""
        return self.typ

    def copy(self) -> Self:
        """A channel with the same value."""
        new = self.__class__(self.typ, self.guard)
        new.key, new.value = self.key, self.value
        return new

    def from_checkpoint(self, checkpoint: Any) -> Self:
        """A channel holding `checkpoint` (empty for MISSING)."""
        new = self.__class__(self.typ, self.guard)
        new.key = self.key
        if checkpoint is not MISSING:
            new.value = checkpoint
        return new

    def get(self) -> Value:
        """The value. Raises EmptyChannelError when there is none."""
        if self.value is MISSING:
            raise EmptyChannelError()
        return self.value  # type: ignore[no-any-return]

    def is_available(self) -> bool:
        """Whether there is a value."""
        return self.value is not MISSING

    def checkpoint(self) -> Any:
        """The value, or MISSING."""
        return self.value

    def _check_guard(self, count: int) -> None:
        if count > 1 and self.guard:
            name = type(self).__name__
            raise InvalidUpdateError(
                f"At key '{self.key}': {name}(guard=True) can receive only one value per "
                f"step, got {count}. Use {name}(..., guard=False) to keep any one of them."
            )
