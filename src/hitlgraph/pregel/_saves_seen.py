"""What a run stored last, seen as its driver stored it: the thread's latest checkpoint tuple
after the run, without reading it back.

The server's worker reads the thread's state right after each run (to record it with the
run's end). A `SavesSeen` set in `SEEN` around the run's `astream` is given every save and
write the async driver carries out (see _saver_io.AsyncSaverIO), in the order the saver gets
them, and rebuilds the tuple a `get_tuple` of the thread's latest checkpoint would return
then. It gives up (`latest()` is None, and the caller reads) on anything it cannot vouch
for: a save of another thread or namespace (a subgraph's), a compare-and-set claim on the
checkpoint it would return, a run under the sync driver, or a run that saved no checkpoint
of its own (its latest is the one it started from, with writes added to those read)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from hitlgraph.checkpoint.base import CheckpointTuple, PendingWrite, write_slot
from hitlgraph.pregel._effects import Save, SaveWrites

__all__ = ["SEEN", "SavesSeen"]


class SavesSeen:
    """The saves of one top-level run of thread `thread_id` (root namespace)."""

    __slots__ = ("_save", "_writes", "doubt", "thread_id")

    def __init__(self, thread_id: str) -> None:
        self.thread_id = thread_id
        self.doubt = False
        """Something was stored that this cannot follow: `latest()` gives None."""
        self._save: Save | None = None
        self._writes: dict[tuple[str, int], PendingWrite] = {}

    def saw(self, effect: Save | SaveWrites) -> None:
        """`effect` was stored (or queued to be, in order, under "async" durability)."""
        conf = effect.config["configurable"]
        if conf.get("thread_id") != self.thread_id or conf.get("checkpoint_ns"):
            self.doubt = True
            return
        if type(effect) is SaveWrites:
            self._write(effect)
            return
        assert isinstance(effect, Save)
        # (its `before` writes belong to the checkpoint before it, which is not the latest)
        self._save, self._writes = effect, {}

    def _write(self, effect: SaveWrites) -> None:
        """A task's writes on the latest checkpoint, kept as a saver keeps them: by slot
        (a normal write's slot taken already keeps its first value; an error or interrupt
        replaces the one before)."""
        save = self._save
        if save is None or effect.config["configurable"].get("checkpoint_id") != save.checkpoint[
                "id"]:
            return  # (writes on the checkpoint the run started from: it is not the latest)
        task_id = effect.task_id
        for idx, (channel, value) in enumerate(effect.writes):
            slot, mode = write_slot(channel, idx, value)
            if mode == "claim":
                self.doubt = True
            elif mode == "replace" or (task_id, slot) not in self._writes:
                self._writes[task_id, slot] = (task_id, channel, value)

    def latest(self) -> CheckpointTuple | None:
        """The thread's latest checkpoint tuple as the saves made it (None: read it)."""
        save = self._save
        if save is None or self.doubt:
            return None
        checkpoint: Any = save.checkpoint
        versions = checkpoint["channel_versions"]
        values = checkpoint["channel_values"]
        # (a saver returns the values of the versioned channels only)
        stored = {chan: values[chan] for chan in versions if chan in values}
        parent = save.config["configurable"].get("checkpoint_id")
        as_read: Any = {**checkpoint, "channel_values": stored}
        return CheckpointTuple(
            config=_config(self.thread_id, checkpoint["id"]),
            checkpoint=as_read,
            metadata=save.metadata,
            parent_config=_config(self.thread_id, parent) if parent else None,
            pending_writes=list(self._writes.values()),
        )


def _config(thread_id: str, checkpoint_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": "",
                             "checkpoint_id": checkpoint_id}}


SEEN: ContextVar[SavesSeen | None] = ContextVar("hitlgraph_saves_seen", default=None)
"""The SavesSeen of the run the current task drives, if its caller asked for one."""
