"""UntrackedValue: a key that lives only in the running process, never in a checkpoint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic

from hitlgraph.channels._single import SingleValue
from hitlgraph.channels.base import MISSING, Value

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["UntrackedValue"]


class UntrackedValue(Generic[Value], SingleValue[Value]):
    """Keeps the last value written for the rest of the run; nothing of it is saved, so
    get_state(), a resumed run and a new process see the key unset.

    Args:
        typ: the type of the value.
        guard: raise InvalidUpdateError for more than one write in a step (else the last wins).
    """

    __slots__ = ()

    def update(self, values: Sequence[Value]) -> bool:
        """Keep the step's write."""
        return self._take(values, clear=False)

    def checkpoint(self) -> Any:
        """Always MISSING: the value is never stored."""
        return MISSING

    def from_checkpoint(self, checkpoint: Any) -> Self:
        """An empty channel (whatever was stored)."""
        return super().from_checkpoint(MISSING)
