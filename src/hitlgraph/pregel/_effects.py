"""What the superstep machine (run_loop, update_loop) and its drivers (_drive.py) exchange:
the effects the machine yields, and how a run ended. The machine does no I/O of its own; the
drivers carry the effects out and send the replies back. (Effects are not frozen: a frozen
dataclass costs a microsecond more to make, and a step makes several; nothing changes them.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from hitlgraph.checkpoint.base import CheckpointMetadata
from hitlgraph.pregel._algo import Task
from hitlgraph.pregel._spec import Write
from hitlgraph.types import Interrupt


@dataclass(slots=True)
class Load:
    """Read a checkpoint tuple (the latest without checkpoint_id). Reply: CheckpointTuple|None."""

    config: dict[str, Any]


@dataclass(slots=True)
class SaveWrites:
    """Write one task's pending writes."""

    config: dict[str, Any]
    writes: Sequence[Write]
    task_id: str
    task_path: str


@dataclass(slots=True)
class Save:
    """Write `before` (pending writes of the step that made it), then a checkpoint.
    Reply: its config."""

    config: dict[str, Any]
    checkpoint: Any
    metadata: CheckpointMetadata
    new_versions: dict[str, int]
    before: tuple[SaveWrites, ...] = ()
    background: bool = False
    """The run goes on while this is written ("async" durability); the driver writes it before
    anything it must read or claim, and before the run returns or raises."""


@dataclass(slots=True)
class Start:
    """Start running tasks; `values` is the state they read."""

    tasks: Sequence[Task]
    values: dict[str, Any]


@dataclass(slots=True)
class Next:
    """Wait for the next started task to finish. Reply: that Task."""


@dataclass(slots=True)
class RunOne:
    """Run a lone task to its end. Reply: the Task."""

    task: Task
    values: dict[str, Any]


@dataclass(slots=True)
class Emit:
    """A stream chunk for `mode`; `ns` is the namespace of the subgraph that made it."""

    mode: str
    chunk: Any
    ns: tuple[str, ...] = ()


@dataclass(slots=True)
class CacheGet:
    """Look cached node writes up. Reply: {full key: writes} for the keys found."""

    cache: Any
    keys: Sequence[tuple[tuple[str, ...], str]]


@dataclass(slots=True)
class CacheSet:
    """Cache node writes: {full key: (writes, ttl)}."""

    cache: Any
    pairs: dict[tuple[tuple[str, ...], str], tuple[Any, int | None]]


@dataclass(slots=True)
class Claim:
    """Write `writes` (a task's answers, compare-and-set on the thread's latest checkpoint).
    Reply: None when stored, or the CheckpointConflictError of the race it lost (nothing was
    stored), for the machine to count the answer again on the newer checkpoint."""

    writes: SaveWrites


Effect = (Load | Save | SaveWrites | Claim | Start | Next | RunOne | Emit | CacheGet
          | CacheSet)
NEXT = Next()


def unknown(effect: NoReturn) -> NoReturn:
    """The last case of a `match` over effects: mypy rejects the call unless every other
    effect type was matched before it (the set of effects is closed)."""
    raise TypeError(f"Unknown effect {effect!r}")


@dataclass(slots=True)
class RunResult:
    """How a run ended: its output values and the interrupts it stopped at."""

    values: dict[str, Any] = field(default_factory=dict)
    interrupts: tuple[Interrupt, ...] = ()
    paused: bool = False


class Abandoned(Exception):
    """Thrown into run_loop by a driver whose consumer stopped reading (closed the stream, or
    cancelled it): the run saves what its durability held back and ends."""


