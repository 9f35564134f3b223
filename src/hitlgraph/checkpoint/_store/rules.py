"""The write rules (checkpoint.base.WriteRules) as checks of what a store found, written once
for every saver: the fence, and the compare-and-set of a checkpoint or of a task's writes."""

from __future__ import annotations

from hitlgraph.checkpoint.base import Fence
from hitlgraph.errors import CheckpointConflictError, FencedWriteError

__all__ = ["answered", "check_fence", "check_latest", "check_writes_latest"]


def check_fence(thread_id: str, fence: Fence | None, current: int | None) -> None:
    """Raise FencedWriteError unless `fence` is absent or its token is `current` (its key's
    latest token as stored, None for a key never advanced)."""
    if fence is not None and current != fence.token:
        raise FencedWriteError(thread_id, fence.key, fence.token, current)


def check_latest(thread_id: str, expected: str | None, latest: str | None) -> None:
    """The compare-and-set of a put: raise CheckpointConflictError when an expected latest was
    given ("" for none) and the thread's latest in the namespace is another one."""
    if expected is not None and (latest or "") != expected:
        raise CheckpointConflictError(thread_id, expected or None, latest)


def check_writes_latest(thread_id: str, checkpoint_id: str, latest: str | None) -> None:
    """The compare-and-set of put_writes: the writes' checkpoint must be the latest."""
    if latest != checkpoint_id:
        raise CheckpointConflictError(thread_id, checkpoint_id, latest)


def answered(thread_id: str, checkpoint_id: str) -> CheckpointConflictError:
    """The error of a "claim" write whose answer slot was taken already."""
    return CheckpointConflictError(thread_id, checkpoint_id, checkpoint_id, answered=True)
