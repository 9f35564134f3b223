"""EphemeralValue: a key that holds a value for the one step after it was written."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic

from hitlgraph.channels._single import SingleValue
from hitlgraph.channels.base import Value

__all__ = ["EphemeralValue"]


class EphemeralValue(Generic[Value], SingleValue[Value]):
    """Holds what the last step wrote, and is empty again after a step that did not write it.

    Args:
        typ: the type of the value.
        guard: raise InvalidUpdateError for more than one write in a step (else the last wins).
    """

    __slots__ = ()

    def update(self, values: Sequence[Value]) -> bool:
        """Keep this step's write, or clear the value when the step wrote none."""
        return self._take(values, clear=True)
