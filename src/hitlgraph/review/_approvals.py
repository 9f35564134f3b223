"""k-of-n approvals: an interrupt asked with `approvals=k` stays open until k distinct
principals answer it, or until one answer matching its `rejection` decides alone.

How the answers are kept: in the paused task's resume log (the `__resume__` write whose
entries are [interrupt id, answer, in force]), so each one is claimed compare-and-set like
any resume, in the same transaction, and a crash loses none. An answer that does not decide
yet is the entry [APPROVAL + interrupt id, {"by", "answer", "at"}, False]: under a key that
is no interrupt id and never in force, every reader of the log (the engine, the index of open
interrupts) keeps the interrupt open. The answer that decides adds its own entry, then
[interrupt id, [each answer as such a dict], True]: the list in force, which interrupt() gives
the node as Approval objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from hitlgraph._policy import POLICY_BY, ReviewPolicy
from hitlgraph.checkpoint.serde import register_type
from hitlgraph.errors import ResumeError
from hitlgraph.review._groups import Groups

__all__ = ["APPROVAL", "Approval", "approval_key", "check_approver", "decisions_of",
           "given_so_far", "is_approval_entry", "tally"]

APPROVAL = "approval:"
"""The prefix of the resume-log key under which an answer that does not decide yet is kept."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Approval:
    """One principal's answer to an interrupt asked with `approvals=k` (an approval, or the
    rejection that decided): interrupt() returns the list of them once the interrupt decides."""

    by: str
    """The principal who answered (`Command(resume=..., by=...)`)."""
    answer: Any
    """What they answered (typed by the interrupt's response_schema, if it has one)."""
    at: datetime
    """When the answer was claimed (UTC)."""


# Nodes keep these in their state, so checkpoints must read them back: registered under a
# stable name (the allowlist), here rather than in the serializer's own list, which would
# have to import this package.
register_type(Approval, "hitlgraph.review.Approval")


def approval_key(interrupt_id: str) -> str:
    """The resume-log key of the answers to `interrupt_id` that do not decide yet."""
    return APPROVAL + interrupt_id


def is_approval_entry(entry: Sequence[Any]) -> bool:
    """Whether a resume-log entry is an answer that did not decide (see the module doc)."""
    return isinstance(entry[0], str) and entry[0].startswith(APPROVAL)


def given_so_far(log: Sequence[Sequence[Any]], interrupt_id: str) -> list[dict[str, Any]]:
    """The answers to `interrupt_id` that count now, oldest first, as stored ({"by",
    "answer", "at"}): what the next answer adds to.

    A decision starts a new round. So does a decision whose run of the node failed
    ([id, answers, False]: invoke(None) retries with those answers, a new answer starts
    over). A decision a cancelled server run gave back ([id, None, False]) is undone: the
    answers before the deciding one count again, and its sender may answer again.
    """
    key = approval_key(interrupt_id)
    since: list[dict[str, Any]] = []
    decided: list[dict[str, Any]] = []
    for iid, answer, in_force in log:
        if iid == key:
            since.append(answer)
        elif iid == interrupt_id:
            given_back = answer is None and not in_force
            since = decided[:-1] if given_back else []
            decided = list(answer) if in_force and isinstance(answer, list) else []
    return since


def rejects(policy: ReviewPolicy, answer: Any) -> bool:
    """Whether `answer` holds every item of the policy's `rejection` (a rejection decides)."""
    rejection = policy.rejection
    if not rejection or not isinstance(answer, Mapping):
        return False
    return all(key in answer and answer[key] == value for key, value in rejection.items())


def check_approver(policy: ReviewPolicy, iid: str, by: str | None, thread_id: str,
                   groups: Groups | None) -> None:
    """Refuse an answer whose `by` is not among the interrupt's `approvers`: a listed
    principal, or a member of the named group by `groups` (no Groups: no one can be shown to
    be one, so the answer is refused). A deadline's default answer (POLICY_BY) is the policy's
    own, so it passes.

    Raises:
        ResumeError: naming the principal, the interrupt and who may answer it.
    """
    approvers = policy.approvers
    if approvers is None or by == POLICY_BY:
        return
    where = f"interrupt '{iid}' of thread '{thread_id}'"
    if by is None:
        raise ResumeError(f"Only its approvers may answer {where}, so the answer must say "
                          "whose it is: Command(resume=..., by='<principal>').")
    if isinstance(approvers, tuple):
        if by not in approvers:
            allowed = ", ".join(f"'{name}'" for name in approvers)
            raise ResumeError(f"'{by}' may not answer {where}: its approvers are {allowed}. "
                              "Answer as one of them.")
        return
    if groups is None:
        raise ResumeError(
            f"Only members of group '{approvers}' may answer {where}, and this run was given "
            f"no group membership to check '{by}' against: resume with the config "
            f"hitlgraph.review.Groups({{'{approvers}': [...]}}).on(config).")
    if not groups.has(by, approvers):
        raise ResumeError(f"'{by}' may not answer {where}: its approvers are the members of "
                          f"group '{approvers}', and '{by}' is not one. Answer as one of them.")


def _check_principal(policy: ReviewPolicy, so_far: Sequence[Mapping[str, Any]], iid: str,
                     by: str | None, thread_id: str, groups: Groups | None) -> str:
    if by == POLICY_BY:  # a deadline's default answer: not one of the people asked
        return by
    if by is None:
        raise ResumeError(
            f"Interrupt '{iid}' of thread '{thread_id}' needs {policy.approvals} answers from "
            "distinct people, so each answer must say whose it is: "
            "Command(resume=..., by='<principal>').")
    check_approver(policy, iid, by, thread_id, groups)
    if any(given.get("by") == by for given in so_far):
        raise ResumeError(
            f"'{by}' already answered interrupt '{iid}' of thread '{thread_id}', which needs "
            f"{policy.approvals} answers from distinct people ({len(so_far)} so far). "
            "Another person must give the next one.")
    return by


def tally(policy: ReviewPolicy, log: Sequence[Sequence[Any]], iid: str, answer: Any,
          by: str | None, thread_id: str, groups: Groups | None = None) -> list[list[Any]]:
    """The resume-log entries one answer to a k-of-n interrupt adds: its own, and, when it
    decides (the k-th distinct principal, a rejection, or a deadline's default answer, by
    POLICY_BY), the list of answers in force.

    A group name in `approvers` is checked against `groups` (the run's Groups; None: the
    answer is refused, see check_approver).

    Raises:
        ResumeError: no `by`, a principal not among the approvers, or a principal who
            answered already (naming them).
    """
    so_far = given_so_far(log, iid)
    who = _check_principal(policy, so_far, iid, by, thread_id, groups)
    given = {"by": who, "answer": answer,
             "at": datetime.now(timezone.utc).isoformat(timespec="microseconds")}
    entries: list[list[Any]] = [[approval_key(iid), given, False]]
    if len(so_far) + 1 >= policy.approvals or rejects(policy, answer) or who == POLICY_BY:
        entries.append([iid, [*so_far, given], True])
    return entries


def decisions_of(value: Any, interrupt_id: str) -> list[Approval]:
    """The Approval objects of a decided k-of-n interrupt's answer in force.

    Raises:
        ResumeError: `value` is not a list of {"by", "answer", "at"} (an answer given by id
            to a subgraph's k-of-n interrupt from outside the tally, or a damaged log).
    """
    try:
        return [Approval(by=str(d["by"]), answer=d["answer"], at=datetime.fromisoformat(d["at"]))
                for d in value]
    except (TypeError, KeyError, ValueError) as exc:
        raise ResumeError(
            f"Interrupt '{interrupt_id}' asks for several approvals, but its answer in force "
            f"is not the list of approvals the engine records ({type(exc).__name__}: {exc}). "
            "Answer it with Command(resume=..., by=...) at the top-level graph.") from exc
