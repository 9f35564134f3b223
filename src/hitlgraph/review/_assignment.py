"""Who holds an interrupt: the errors of claim(), release() and reassign(), and the
capability of savers that keep assignments in their index of open interrupts."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from hitlgraph.errors import CheckpointConflictError
from hitlgraph.review._decisions import Decision

__all__ = ["Assignable", "AssignmentError", "InterruptExpiredError", "InterruptHeldError",
           "InterruptNotOpenError"]


class AssignmentError(RuntimeError):
    """A claim, release or reassign the index refused. `thread_id` and `interrupt_id` name
    the interrupt."""

    def __init__(self, message: str, *, thread_id: str, interrupt_id: str) -> None:
        super().__init__(message)
        self.thread_id = thread_id
        self.interrupt_id = interrupt_id


class InterruptHeldError(AssignmentError):
    """Someone else holds the interrupt (`holder`; None: no one, for a release), so
    `principal` may not claim or release it."""

    def __init__(self, *, thread_id: str, interrupt_id: str, holder: str | None,
                 principal: str, action: str) -> None:
        self.holder = holder
        self.principal = principal
        if holder is None:
            message = (f"{principal!r} cannot {action} interrupt {interrupt_id!r} of thread "
                       f"{thread_id!r}: no one holds it. Claim it first, or leave it.")
        else:
            message = (f"{principal!r} cannot {action} interrupt {interrupt_id!r} of thread "
                       f"{thread_id!r}: {holder!r} holds it. Ask them to release it, or "
                       f"reassign it (reassign(..., to={principal!r}))"
                       + (", or release it with force=True." if action == "release" else "."))
        super().__init__(message, thread_id=thread_id, interrupt_id=interrupt_id)


class InterruptNotOpenError(AssignmentError, LookupError):
    """The interrupt is not open: unknown, answered, expired, or closed by a later step."""

    def __init__(self, *, thread_id: str, interrupt_id: str) -> None:
        super().__init__(
            f"Interrupt {interrupt_id!r} of thread {thread_id!r} is not open (unknown, "
            "answered, expired, or closed by a later step). List what waits with "
            f"saver.list_pending(thread_id={thread_id!r}).",
            thread_id=thread_id, interrupt_id=interrupt_id)


class InterruptExpiredError(CheckpointConflictError):
    """An answer to an interrupt whose deadline passed and whose policy closed it unanswered
    (`Expire.cancel()`): it takes no answer, and nothing was written. A
    CheckpointConflictError(answered=True), as for an answer another resume gave first."""

    def __init__(self, *, thread_id: str, interrupt_id: str, checkpoint_id: str) -> None:
        super().__init__(thread_id, checkpoint_id, checkpoint_id, answered=True)
        self.interrupt_id = interrupt_id
        self.args = (
            f"Interrupt {interrupt_id!r} of thread {thread_id!r} expired and its policy closed "
            "it unanswered (Expire.cancel()): it takes no answer. The decision log says when "
            f"(saver.list_decisions(thread_id={thread_id!r})); to go on, update the thread's "
            "state (update_state) or start it again.",)


@runtime_checkable
class Assignable(Protocol):
    """A saver whose index of open interrupts keeps who holds each (every saver hitlgraph
    ships). Each change is a compare-and-set on the index entry, logged in the decision log
    ("claimed", "released", "reassigned") with an "interrupt.decided" event."""

    def claim(self, thread_id: str, interrupt_id: str, principal: str, *,
              reason: str | None = None) -> Decision:
        """Hold the interrupt as `principal` (again, if they hold it already)."""
        ...

    def release(self, thread_id: str, interrupt_id: str, principal: str, *,
                force: bool = False, reason: str | None = None) -> Decision:
        """Let go of the interrupt (only its holder, unless `force`)."""
        ...

    def reassign(self, thread_id: str, interrupt_id: str, principal: str, *, to: str,
                 reason: str | None = None) -> Decision:
        """Give the interrupt to `to` (anyone may)."""
        ...

    async def aclaim(self, thread_id: str, interrupt_id: str, principal: str, *,
                     reason: str | None = None) -> Decision:
        """claim() for asyncio programs."""
        ...

    async def arelease(self, thread_id: str, interrupt_id: str, principal: str, *,
                       force: bool = False, reason: str | None = None) -> Decision:
        """release() for asyncio programs."""
        ...

    async def areassign(self, thread_id: str, interrupt_id: str, principal: str, *, to: str,
                        reason: str | None = None) -> Decision:
        """reassign() for asyncio programs."""
        ...
