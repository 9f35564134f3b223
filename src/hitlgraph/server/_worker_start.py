"""What a worker's read of the thread before a run (worker._plan) is used for beyond planning:
the graph starts from it (StartFrom: the engine does not read the latest checkpoint again),
and a rollback restores it (Rewind)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hitlgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple
from hitlgraph.pregel._params import StartFrom

__all__ = ["Rewind", "StartFrom", "handed"]


def handed(config: dict[str, Any], latest: CheckpointTuple | None) -> StartFrom | None:
    """What the graph is handed of `_plan`'s read: the latest checkpoint, unless the run
    starts from another one (a checkpoint_id: the graph reads that one)."""
    return None if "checkpoint_id" in config["configurable"] else StartFrom(latest)


@dataclass(frozen=True, slots=True)
class Rewind:
    """What a rollback restores: the checkpoint a run began from and its pending writes then.
    The writes are kept serialized: the graph is handed the same tuple (see `handed`), and
    its nodes may change the values they are given in place."""

    config: dict[str, Any]
    writes: list[tuple[str, str, tuple[str, bytes]]]

    @classmethod
    def of(cls, saver: BaseCheckpointSaver, tup: CheckpointTuple) -> Rewind:
        dump = saver.serde.dumps_typed
        return cls(tup.config, [(tid, chan, dump(value))
                                for tid, chan, value in tup.pending_writes or ()])

    def args(self, saver: BaseCheckpointSaver) -> tuple[dict[str, Any], list[Any]]:
        load = saver.serde.loads_typed
        return self.config, [(tid, chan, load(data)) for tid, chan, data in self.writes]
