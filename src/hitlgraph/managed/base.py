"""ManagedValue: a state key whose value the engine computes for each task instead of storing.

A managed key is read like any state key, but it is not a channel: nothing writes it, no
checkpoint stores it, and snapshots and outputs leave it out. As in LangGraph, a class of
this kind goes in a state field's `Annotated[...]` metadata (`RemainingSteps` is
`Annotated[int, RemainingStepsManager]`), and a node's writes to the key are dropped.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from inspect import isclass
from typing import Any, Generic, TypeGuard, TypeVar

__all__ = ["ManagedValue", "ManagedValueMapping", "ManagedValueSpec", "Scratchpad",
           "is_managed_value"]

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Scratchpad:
    """What a managed value is computed from: the step a task runs in and the step at which
    the run hits its recursion limit (LangGraph's scratchpad `step` and `stop`)."""

    step: int
    stop: int


class ManagedValue(ABC, Generic[V]):
    """A value computed for each task from the run's progress."""

    @staticmethod
    @abstractmethod
    def get(scratchpad: Any) -> V:
        """The value for a task of the step `scratchpad` describes."""


ManagedValueSpec = type[ManagedValue[Any]]
ManagedValueMapping = dict[str, ManagedValueSpec]


def is_managed_value(value: Any) -> TypeGuard[ManagedValueSpec]:
    """Whether `value` is a ManagedValue class (what a state field's metadata names)."""
    return isclass(value) and issubclass(value, ManagedValue)
