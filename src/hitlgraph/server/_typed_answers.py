"""Answers at the server's door: a resume whose answer does not match the response_schema of
the interrupt it answers is refused with 422 when the run is created, and one from a caller
who is not among the interrupt's approvers (a list of principals, or a review group the
caller is not in) with 403, so no run is queued and nothing is written (the library would
refuse both too, but only once a worker ran it, as a failed run). LangGraph's server has no
such check.

Which interrupt an answer goes to is the library's rule (`answers_by_id`): a map of interrupt
ids answers each id it names; any other value answers the thread's only open interrupt. A
resume the rule cannot place (an id nothing waits for, one value for several interrupts) is
left for the run to refuse, with the library's own message.
"""

from __future__ import annotations

import time
from typing import Any, Final

from fastapi import HTTPException

from hitlgraph.errors import ResumeError
from hitlgraph.pregel._open import answers_by_id
from hitlgraph.review._answers import answer_errors
from hitlgraph.review._approvals import check_approver
from hitlgraph.review._groups import Groups
from hitlgraph.review._pending import PendingInterrupt
from hitlgraph.server._errors import describe_errors, unavailable_errors
from hitlgraph.server.store.base import ThreadRow

__all__ = ["PAGES", "NeedsMore", "ResumeCheck", "answer_refusal", "approver_refusal",
           "approvers_refusal", "read_waiting"]

PAGES: Final = 10
"""Pages of 100 of a thread's open interrupts the approvers' check reads at most."""

Asked = dict[str, list[dict[str, Any]]]
"""A thread's open interrupts as its row holds them: {task_id: [{"id", "value",
"response_schema"?}, ...]}."""


def _answered(asked: Asked, resume: Any) -> list[tuple[str, dict[str, Any], Any, list[Any]]]:
    """(interrupt id, its schema, the answer, where the answer is in the body) for each
    answered interrupt that has a schema."""
    ids = list(dict.fromkeys(i["id"] for listed in asked.values() for i in listed))
    schemas: dict[str, dict[str, Any]] = {
        i["id"]: i["response_schema"] for listed in asked.values() for i in listed
        if i.get("response_schema") is not None}
    if answers_by_id(resume):
        return [(iid, schemas[iid], answer, ["command", "resume", iid])
                for iid, answer in resume.items() if iid in schemas]
    if len(ids) == 1 and ids[0] in schemas:
        return [(ids[0], schemas[ids[0]], resume, ["command", "resume"])]
    return []


def answer_refusal(thread_id: str, asked: Asked, resume: Any) -> str | None:
    """The 422 detail for `resume` on a thread waiting on `asked`, naming each field at fault
    (as a body FastAPI could not validate); None when the answers match their schemas."""
    errors: list[dict[str, Any]] = []
    refused: list[str] = []
    for iid, schema, answer, at in _answered(asked, resume):
        found = answer_errors(schema, answer)
        if found:
            refused.append(f"'{iid}'")
            errors += [{"loc": [*at, *e["loc"]], "msg": e["msg"]} for e in found]
    if not errors:
        return None
    return (f"{describe_errors(errors)}. The answer does not match the response_schema of "
            f"interrupt {', '.join(refused)}; nothing ran and the thread still waits. Read "
            f"the schema in GET /threads/{thread_id}/state (interrupts) and answer again.")


DEAD_CONNECTIONS: Final = 11
"""Reads tried before an outage's error reaches the client: after a database restart or a
reset, each connection the saver's pool holds (10 at most by default) fails once, at once,
then the pool opens a new one. Retried only within RETRY_SECONDS: a database that does not
answer at all is reported (503) after one read's timeout, not eleven."""

RETRY_SECONDS: Final = 1.0


async def _read_through_dead_connections(saver: Any, thread_key: str
                                         ) -> list[PendingInterrupt]:
    started = time.monotonic()
    for _ in range(DEAD_CONNECTIONS - 1):
        try:
            return await _open_of(saver, thread_key)
        except unavailable_errors():
            if time.monotonic() - started > RETRY_SECONDS:
                raise
    return await _open_of(saver, thread_key)


async def _open_of(saver: Any, thread_key: str) -> list[PendingInterrupt]:
    """The thread's open interrupts, from its saver's index (none without one)."""
    if not hasattr(saver, "alist_pending"):
        return []
    found: list[PendingInterrupt] = []
    after = None
    for _ in range(PAGES):
        page = [p async for p in saver.alist_pending(thread_id=thread_key, limit=100,
                                                     after=after)]
        found += page
        if len(page) < 100:
            break
        after = page[-1].cursor
    return found


def _refusal(waiting: list[PendingInterrupt], resume: Any, thread_id: str, by: str | None,
             groups: Groups) -> str | None:
    """The first approvers' refusal among the interrupts `resume` answers (the library's
    placing rule, as `_answered`), or None."""
    named = resume if answers_by_id(resume) else None
    ids = {p.interrupt_id for p in waiting}
    answered = [p for p in waiting if p.interrupt_id in named] if named is not None \
        else (waiting if len(ids) == 1 else [])
    for item in answered:
        if item.policy is None:
            continue
        try:
            check_approver(item.policy, item.interrupt_id, by, thread_id, groups)
        except ResumeError as exc:
            return (f"{exc} Nothing ran and the thread still waits. The server's review "
                    "groups (ApiKeyAuth's groups, or the auth callable's Principal.groups) "
                    "say who is in a group.")
    return None


async def approver_refusal(saver: Any, thread_key: str, thread_id: str, resume: Any,
                           by: str | None, member_of: frozenset[str] | None) -> str | None:
    """The 403 detail for `resume` from the caller `by` (who belongs to the groups
    `member_of`: auth.groups_of; None: none kept, so in none) on a thread (`thread_key`: the
    checkpointer's id of it) when an interrupt it answers has approvers the caller is not
    among; None when they may answer."""
    return approvers_refusal(await read_waiting(saver, thread_key), resume, thread_id, by,
                             member_of)


async def read_waiting(saver: Any, thread_key: str) -> list[PendingInterrupt]:
    """The thread's open interrupts as the approvers' check reads them (from the saver's
    index, PAGES pages at most; none without one), read again through dead connections."""
    return await _read_through_dead_connections(saver, thread_key)


def approvers_refusal(waiting: list[PendingInterrupt], resume: Any, thread_id: str,
                      by: str | None, member_of: frozenset[str] | None) -> str | None:
    """`approver_refusal` on the thread's open interrupts `waiting` read already."""
    if not any(p.policy is not None and p.policy.approvers is not None for p in waiting):
        return None
    groups = Groups({group: [by] for group in member_of or ()} if by else {})
    return _refusal(waiting, resume, thread_id, by, groups)


class NeedsMore(Exception):
    """A resume's check needs more than its thread's row (`ResumeCheck`)."""


class ResumeCheck:
    """The rules of a resume on its thread's row, for both the run's creating transaction
    (the run's `check`, on the row it reads anyway) and the route's own read of the thread:
    none on a busy thread (a queued resume is judged when it runs); 422 when the answer
    does not match the response_schema of the interrupt it answers (`answer_refusal`); 403
    when an interrupt it answers has approvers the caller is not among (`approvers_refusal`,
    on `waiting`, the thread's open interrupts, `given` before the check runs). A thread
    without open interrupts (an edited one may still take the answer) is not judged here:
    `judged` says False, and the run's check raises `NeedsMore` for the caller to judge it
    with more reads (as it does when `waiting` was not given)."""

    def __init__(self, thread_id: str, resume: Any, by: str | None,
                 member_of: frozenset[str] | None) -> None:
        self.thread_id, self.resume, self.by, self.member_of = thread_id, resume, by, member_of
        self.waiting: list[PendingInterrupt] | None = None

    def given(self, waiting: list[PendingInterrupt]) -> None:
        """The thread's open interrupts, read before the check runs."""
        self.waiting = waiting

    def judged(self, thread: ThreadRow) -> bool:
        """Raise the thread's refusal of the resume (HTTPException 422 or 403); False when
        the thread has no open interrupt to judge it by."""
        if thread.status == "busy":
            return True
        if not thread.interrupts:
            return False
        refusal = answer_refusal(self.thread_id, thread.interrupts, self.resume)
        if refusal is not None:
            raise HTTPException(422, refusal)
        if self.waiting is None:  # (not all read in the transaction: judged anew)
            raise NeedsMore
        refusal = approvers_refusal(self.waiting, self.resume, self.thread_id, self.by,
                                    self.member_of)
        if refusal is not None:
            raise HTTPException(403, refusal)
        return True

    def __call__(self, thread: ThreadRow) -> None:
        if not self.judged(thread):
            raise NeedsMore
