"""Channels: how each state key takes a step's writes, what nodes read, and what is saved.

A state key is a `LastValue` unless its annotation says otherwise: a reducer makes it a
`BinaryOperatorAggregate`, and a channel instance (or class) in `Annotated[...]` picks any
other, e.g. `events: Annotated[list[str], Topic(str, accumulate=True)]`. Subclass
`BaseChannel` for a channel of your own.
"""

from hitlgraph.channels.any_value import AnyValue
from hitlgraph.channels.base import BaseChannel
from hitlgraph.channels.binop import BinaryOperatorAggregate
from hitlgraph.channels.delta import DeltaChannel
from hitlgraph.channels.ephemeral_value import EphemeralValue
from hitlgraph.channels.last_value import LastValue, LastValueAfterFinish
from hitlgraph.channels.named_barrier_value import (
    NamedBarrierValue,
    NamedBarrierValueAfterFinish,
)
from hitlgraph.channels.topic import Topic
from hitlgraph.channels.untracked_value import UntrackedValue

__all__ = [
    "AnyValue",
    "BaseChannel",
    "BinaryOperatorAggregate",
    "DeltaChannel",
    "EphemeralValue",
    "LastValue",
    "LastValueAfterFinish",
    "NamedBarrierValue",
    "NamedBarrierValueAfterFinish",
    "Topic",
    "UntrackedValue",
]
