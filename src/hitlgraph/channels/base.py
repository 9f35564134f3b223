"""BaseChannel: the contract every channel keeps, LangGraph's public API for user channels.

A channel holds one state key's value between supersteps. At the end of a step the engine
hands it the step's writes (`update`), reads it for the next tasks (`get`), and stores what
`checkpoint()` returns; a later run rebuilds it with `from_checkpoint()`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from hitlgraph.errors import EmptyChannelError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["MISSING", "BaseChannel", "Checkpoint", "Update", "Value"]

Value = TypeVar("Value")
Update = TypeVar("Update")
Checkpoint = TypeVar("Checkpoint")


class _Missing:
    """The type of MISSING: one instance, shown by name."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""What `checkpoint()` returns for a channel with nothing to store (the key is left out of
the checkpoint), and what `from_checkpoint()` gets for a key the checkpoint lacks."""


class BaseChannel(Generic[Value, Update, Checkpoint], ABC):
    """One state key's storage: how a step's writes combine, what a node reads, what is saved.

    Subclass it for a channel of your own and name an instance in the state schema, e.g.
    `count: Annotated[int, MyChannel(int)]`. The instance in the schema is a prototype: each
    run makes its own with `from_checkpoint()`, so keep per-run state in instance attributes
    that `from_checkpoint()` and `copy()` set.
    """

    __slots__ = ("key", "typ")

    def __init__(self, typ: Any, key: str = "") -> None:
        self.typ = typ
        self.key = key

    @property
    @abstractmethod
    def ValueType(self) -> Any:
        """The type `get()` returns."""

    @property
    @abstractmethod
    def UpdateType(self) -> Any:
        """The type of one write `update()` takes."""

    def copy(self) -> Self:
        """An independent channel with the same value (a round trip through `checkpoint()`
        unless a subclass knows a cheaper way)."""
        return self.from_checkpoint(self.checkpoint())

    def checkpoint(self) -> Checkpoint | Any:
        """What to store for this channel: by default its value, or MISSING when empty."""
        try:
            return self.get()
        except EmptyChannelError:
            return MISSING

    @abstractmethod
    def from_checkpoint(self, checkpoint: Checkpoint | Any) -> Self:
        """A new channel like this one, holding what `checkpoint()` returned (MISSING: empty).

        Copy mutable stored data if `update()` changes it in place.
        """

    @abstractmethod
    def get(self) -> Value:
        """The channel's value. Raises EmptyChannelError when it has none."""

    def is_available(self) -> bool:
        """Whether `get()` would return a value (subclasses can answer without raising)."""
        try:
            self.get()
        except EmptyChannelError:
            return False
        return True

    @abstractmethod
    def update(self, values: Sequence[Update]) -> bool:
        """Take one step's writes to this key, in task order; return whether the value changed.

        Called with the writes of a step that wrote the key, and with no writes after a step
        that did not (while the channel has a value), so a channel can clear itself.
        Raises InvalidUpdateError for writes it cannot take.
        """

    def consume(self) -> bool:
        """A task subscribed to this channel ran; return whether the value changed.

        StateGraph's nodes subscribe to their edges rather than to state keys, so the engine
        does not call this for state keys (as in LangGraph); it is part of the contract.
        """
        return False

    def finish(self) -> bool:
        """The run is about to end (no node is triggered); return whether the value changed."""
        return False
