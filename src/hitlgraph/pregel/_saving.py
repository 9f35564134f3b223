"""A run's checkpoint bookkeeping: which checkpoint is the parent of the next, the
compare-and-set each save carries, and what "exit" durability holds back until the run ends."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

from hitlgraph.checkpoint.base import CheckpointMetadata
from hitlgraph.constants import NO_WRITES, PUSH, TASK_RESULT, TASKS
from hitlgraph.pregel._algo import RunState, Task
from hitlgraph.pregel._effects import Effect, Save, SaveWrites
from hitlgraph.pregel._params import RunParams, thread_config
from hitlgraph.pregel._spec import Write
from hitlgraph.types import Send

_CHECKPOINT_MODES = frozenset({"checkpoints", "debug"})


def _tracked(writes: Sequence[Write], untracked: frozenset[str]) -> list[Write]:
    """`writes` without those to UntrackedValue keys, also as keys of a Send's dict argument
    (as LangGraph saves them: such values never reach storage)."""
    out: list[Write] = []
    for chan, value in writes:
        if chan in untracked:
            continue
        if chan == TASKS and isinstance(value, Send) and isinstance(value.arg, dict):
            value = Send(value.node, {k: v for k, v in value.arg.items() if k not in untracked})
        out.append((chan, value))
    return out


class RunSaver:
    """Checkpoint bookkeeping of one run: parent links, compare-and-set, durability."""

    def __init__(self, p: RunParams, latest: str) -> None:
        self.p = p
        self.latest = latest
        self.parent: str | None = None
        self.unsaved: tuple[Any, CheckpointMetadata, dict[str, int]] | None = None
        self.buffered: list[SaveWrites] = []
        self.parent_of: dict[str, str | None] = {}
        self.source_of: dict[str, str] = {}
        self.track = bool(p.modes) and not p.modes.isdisjoint(_CHECKPOINT_MODES)
        """The run shows its checkpoints ("checkpoints"/"debug" chunks): remember their
        parents and sources."""

    def save(self, st: RunState, metadata: CheckpointMetadata, new_versions: dict[str, int],
             before: tuple[SaveWrites, ...] = ()) -> Save | None:
        """The effect saving `st` now (after `before`), or None when nothing is to be written
        yet."""
        if not self.p.checkpointed:
            return None
        if self.p.durability == "exit":
            if self.unsaved is not None:
                new_versions = {**self.unsaved[2], **new_versions}
            self.unsaved = (st.checkpoint(), metadata, new_versions)
            self.buffered.clear()
            return None
        return self.put(st.checkpoint(), metadata, new_versions, before)

    def put(self, checkpoint: Any, metadata: CheckpointMetadata, new_versions: dict[str, int],
            before: tuple[SaveWrites, ...] = ()) -> Save:
        """The effect writing `checkpoint` as the child of the last one this run wrote."""
        if self.track:
            self.parent_of[checkpoint["id"]] = self.parent
            self.source_of[checkpoint["id"]] = str(metadata.get("source", "loop"))
        config = thread_config(self.p, self.parent, expected_latest=self.latest)
        self.latest = self.parent = checkpoint["id"]
        return Save(config, checkpoint, metadata, new_versions, before,
                    self.p.durability == "async")

    def save_writes(self, st: RunState, task: Task, writes: Sequence[Write], *,
                    claim: bool = False) -> SaveWrites | None:
        """The effect saving one task's writes now, or None (not checkpointed, or buffered).

        With `claim`, the writes are saved only while st is the thread's latest checkpoint
        (compare-and-set), right away whatever the durability: an answer to interrupt() is
        claimed before anything runs, so of two racing resumes only one proceeds.
        """
        if not self.p.checkpointed:
            return None
        if st.live is not None and st.live.untracked:
            writes = _tracked(writes, st.live.untracked) or [(NO_WRITES, None)]
        # the task path savers record: the node, or a Send's position
        path = task.name if len(task.path) == 2 else f"{PUSH}~{task.path[1]}"
        if claim:
            return SaveWrites(thread_config(self.p, st.id, expected_latest=st.id), writes,
                              task.id, path)
        effect = SaveWrites(thread_config(self.p, st.id), writes, task.id, path)
        if self.unsaved is not None or self.p.durability == "exit":
            self.buffered.append(effect)
            return None
        return effect

    def hold_call_results(self, st: RunState, task: Task) -> None:
        """Under "exit" durability, keep the results of the task's @task calls for the end of
        the run (with other durabilities each call saved its result as it finished)."""
        if (self.p.checkpointed and self.p.durability == "exit"
                and task.ctx.calls_made is not None):
            config = thread_config(self.p, st.id)
            for name, call_id, _, value, _ in task.ctx.task_calls.done:
                self.buffered.append(SaveWrites(config, [(TASK_RESULT, value)], call_id, name))

    def flush(self) -> Generator[Effect, Any, None]:
        """Write what "exit" durability held back (a generator: the driver's replies to these
        effects are dropped here, which `yield from` a list could not do)."""
        if self.unsaved is not None:
            checkpoint, metadata, versions = self.unsaved
            self.unsaved = None
            yield self.put(checkpoint, metadata, versions)
        buffered, self.buffered = self.buffered, []
        for effect in buffered:  # noqa: UP028 - replies must not reach a list iterator
            yield effect
