"""Review groups (issue 14): `Groups` says who is in which group; an answer to an interrupt
whose approvers name a group, and a claim of an interrupt asked for a group, are refused for
anyone outside it. Over memory, a SQLite file and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from _groups_graph import ask_graph

from hitlgraph._policy import POLICY_BY, policy_of
from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.errors import ResumeError
from hitlgraph.review import (
    Assignable,
    Groups,
    InterruptNotOpenError,
    NotInGroupError,
    aclaim_in_group,
    claim_in_group,
)
from hitlgraph.review._approvals import check_approver, tally
from hitlgraph.review._groups import ENTRY_PAGES, GROUPS_KEY, aopen_entry, groups_in, open_entry
from hitlgraph.types import Command

FINANCE = Groups({"finance": ["alice", "bob"], "ops": ["carol"]})


def test_groups_from_a_mapping_and_from_a_callable() -> None:
    assert FINANCE.has("alice", "finance") and not FINANCE.has("carol", "finance")
    assert not FINANCE.has("alice", "nobody")
    assert FINANCE.of("carol") == {"ops"} and FINANCE.of("mallory") == frozenset()
    looked_up = Groups(lambda who: ["finance"] if who.endswith("@acme") else [])
    assert looked_up.has("ann@acme", "finance") and not looked_up.has("eve", "finance")


@pytest.mark.parametrize(("members", "error", "message"), [
    ({"finance": "alice"}, TypeError, r"members of group 'finance' must be a list of names"),
    ({"finance": ["alice", ""]}, ValueError, r"group 'finance' holds ''"),
    ({"": ["alice"]}, ValueError, r"Group name '' must be a non-empty string"),
    (["finance"], TypeError, r"mapping of group -> principals or a callable"),
])
def test_bad_memberships_are_refused_naming_the_value(members: Any, error: type[Exception],
                                                      message: str) -> None:
    with pytest.raises(error, match=message):
        Groups(members)


def test_a_callable_that_returns_no_names_is_refused_naming_the_principal() -> None:
    with pytest.raises(TypeError, match=r"groups the callable gave for 'ann'"):
        Groups(lambda who: "finance").has("ann", "finance")


def test_a_config_carries_its_groups() -> None:
    config = FINANCE.on({"configurable": {"thread_id": "t"}})
    assert groups_in(config) is FINANCE and config["configurable"]["thread_id"] == "t"
    assert groups_in({"configurable": {"thread_id": "t"}}) is None
    with pytest.raises(TypeError, match=GROUPS_KEY):
        groups_in({"configurable": {GROUPS_KEY: {"finance": ["alice"]}}})


def test_check_approver_by_group_and_by_list() -> None:
    group = policy_of(approvers="finance")
    listed = policy_of(approvers=["alice"])
    assert group is not None and listed is not None
    check_approver(group, "i", "alice", "t", FINANCE)
    check_approver(group, "i", POLICY_BY, "t", None)  # a deadline's default answer
    check_approver(listed, "i", "alice", "t", None)
    with pytest.raises(ResumeError, match=r"'carol' may not answer interrupt 'i' of thread "
                                          r"'t': its approvers are the members of group "
                                          r"'finance'"):
        check_approver(group, "i", "carol", "t", FINANCE)
    with pytest.raises(ResumeError, match=r"given no group membership to check 'alice'.*"
                                          r"Groups\(\{'finance': \[...\]\}\)\.on\(config\)"):
        check_approver(group, "i", "alice", "t", None)
    with pytest.raises(ResumeError, match=r"must say whose it is"):
        check_approver(group, "i", None, "t", FINANCE)
    with pytest.raises(ResumeError, match=r"'bob' may not answer .* its approvers are 'alice'"):
        check_approver(listed, "i", "bob", "t", FINANCE)


def test_a_tally_counts_members_and_refuses_others() -> None:
    policy = policy_of(approvals=2, approvers="finance")
    assert policy is not None
    log = tally(policy, [], "i", "yes", "alice", "t", FINANCE)
    assert len(log) == 1, "one approval of two does not decide"
    with pytest.raises(ResumeError, match="'carol' may not answer"):
        tally(policy, log, "i", "yes", "carol", "t", FINANCE)
    decided = tally(policy, log, "i", "yes", "bob", "t", FINANCE)
    assert decided[-1][0] == "i" and [d["by"] for d in decided[-1][1]] == ["alice", "bob"]


def _config(thread: str = "t") -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


def test_a_group_of_approvers_takes_no_answer_without_groups(
        saver: BaseCheckpointSaver) -> None:
    app = ask_graph(saver, approvals=2, approvers="finance")
    app.invoke({}, _config())
    with pytest.raises(ResumeError, match=r"members of group 'finance'.*no group membership"):
        app.invoke(Command(resume="yes", by="anyone"), _config())
    assert len(app.get_state(_config()).interrupts) == 1


def _asked(saver: BaseCheckpointSaver, **policy: Any) -> tuple[Any, str]:
    app = ask_graph(saver, **policy)
    app.invoke({}, _config())
    [asked] = app.get_state(_config()).interrupts
    return app, asked.id


def test_a_claim_by_a_non_member_is_refused(saver: BaseCheckpointSaver) -> None:
    _, iid = _asked(saver, group="finance")
    assert isinstance(saver, Assignable)
    for groups in (FINANCE, None):
        with pytest.raises(NotInGroupError, match=r"'carol' cannot claim .* it is for group "
                                                  r"'finance', and 'carol' is not a member"):
            claim_in_group(saver, "t", iid, "carol", groups)
    assert next(iter(saver.list_pending(thread_id="t"))).assignee is None  # type: ignore[attr-defined]
    done = claim_in_group(saver, "t", iid, "alice", FINANCE, reason="mine")
    assert (done.outcome, done.by, done.reason) == ("claimed", "alice", "mine")
    with pytest.raises(InterruptNotOpenError):
        claim_in_group(saver, "t", "no-such-id", "alice", FINANCE)


def test_a_claim_of_an_interrupt_for_no_group_needs_no_membership(
        saver: BaseCheckpointSaver) -> None:
    _, iid = _asked(saver, assignee=None, expires_in=60)
    assert claim_in_group(saver, "t", iid, "carol", None).by == "carol"


def test_aclaim_in_group_as_claim_in_group(saver: BaseCheckpointSaver) -> None:
    _, iid = _asked(saver, group="ops")
    with pytest.raises(NotInGroupError):
        asyncio.run(aclaim_in_group(saver, "t", iid, "alice", FINANCE))
    assert asyncio.run(aclaim_in_group(saver, "t", iid, "carol", FINANCE)).by == "carol"


class _Index:
    """A PendingIndex stand-in holding `n` open interrupts of thread "t", listed in pages; it
    counts the pages asked for."""

    def __init__(self, n: int) -> None:
        self.items = [SimpleNamespace(interrupt_id=f"i{k}", cursor=str(k)) for k in range(n)]
        self.pages = 0

    def list_pending(self, *, thread_id: str, limit: int, after: str | None) -> list[Any]:
        assert thread_id == "t"
        self.pages += 1
        start = 0 if after is None else int(after) + 1
        return self.items[start:start + limit]

    async def alist_pending(self, **query: Any) -> AsyncIterator[Any]:
        for item in self.list_pending(**query):
            yield item


@pytest.mark.parametrize("driver", ["sync", "async"])
def test_open_entry_pages_through_the_index_and_stops_after_entry_pages(driver: str) -> None:
    def find(index: _Index, interrupt_id: str) -> Any:
        if driver == "sync":
            return open_entry(index, "t", interrupt_id)
        return asyncio.run(aopen_entry(index, "t", interrupt_id))

    index = _Index(250)
    assert find(index, "i230").interrupt_id == "i230" and index.pages == 3
    assert find(index, "i0").interrupt_id == "i0"
    index = _Index(100)
    with pytest.raises(InterruptNotOpenError, match="'nope'"):
        find(index, "nope")
    assert index.pages == 2, "a full page is followed by one more"
    index = _Index(100 * ENTRY_PAGES + 1)
    with pytest.raises(InterruptNotOpenError):
        find(index, f"i{100 * ENTRY_PAGES}")
    assert index.pages == ENTRY_PAGES
