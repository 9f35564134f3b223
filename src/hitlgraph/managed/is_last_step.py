"""IsLastStep and RemainingSteps: how far a run is from its recursion limit."""

from __future__ import annotations

from typing import Annotated, Any

from hitlgraph.managed.base import ManagedValue

__all__ = ["IsLastStep", "IsLastStepManager", "RemainingSteps", "RemainingStepsManager"]


class IsLastStepManager(ManagedValue[bool]):
    """True in the last step the recursion limit allows."""

    @staticmethod
    def get(scratchpad: Any) -> bool:
        """Whether the task's step is the last before the limit."""
        return bool(scratchpad.step == scratchpad.stop - 1)


IsLastStep = Annotated[bool, IsLastStepManager]


class RemainingStepsManager(ManagedValue[int]):
    """How many steps the run may still take before it hits the recursion limit."""

    @staticmethod
    def get(scratchpad: Any) -> int:
        """The steps left, counting the task's own."""
        return int(scratchpad.stop - scratchpad.step)


RemainingSteps = Annotated[int, RemainingStepsManager]
