"""Review groups: who belongs to which group, so that `interrupt(..., approvers="finance")`
and `interrupt(..., group="finance")` can be enforced.

The library keeps no directory of people; the caller says who is in a group with `Groups`,
made from a mapping (group -> its principals) or a callable (principal -> their groups, e.g. a
look-up in the company directory), and hands it to the run that resumes the thread:

    >>> from hitlgraph.review import Groups
    >>> finance = Groups({"finance": ["alice", "bob"]})
    >>> finance.has("alice", "finance"), finance.has("mallory", "finance")
    (True, False)
    >>> config = finance.on({"configurable": {"thread_id": "t1"}})

`graph.invoke(Command(resume=..., by="alice"), config)` then refuses an answer whose `by` is
not a member of the interrupt's approvers group (ResumeError); without a Groups in the config,
an interrupt whose approvers name a group takes no answer at all, since nothing could say who
may give it. The server builds one per request from the authenticated principal's groups.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping
from typing import Any, Final

from hitlgraph.review._assignment import AssignmentError, InterruptNotOpenError
from hitlgraph.review._decisions import Decision
from hitlgraph.review._pending import PendingInterrupt

__all__ = ["GROUPS_KEY", "Groups", "NotInGroupError", "aclaim_in_group", "aopen_entry",
           "check_claim", "claim_in_group", "groups_in", "open_entry"]

GROUPS_KEY: Final = "__hitlgraph_groups"
"""The key of config["configurable"] under which a run carries its Groups (`Groups.on`)."""


def _names(what: str, value: Any) -> frozenset[str]:
    """A collection of non-empty strings, checked (a bare string is refused: it would be
    read as its letters)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{what} must be a list of names, got {type(value).__name__}: "
                        f"{value!r}.")
    names = frozenset(value)
    bad = sorted(repr(n) for n in names if not isinstance(n, str) or not n)
    if bad:
        raise ValueError(f"{what} holds {', '.join(bad)}: each must be a non-empty string.")
    return names


class Groups:
    """Who belongs to which review group.

    Args:
        members: a mapping of each group's name to its principals (as `Command(by=...)`
            names them), or a callable taking a principal and returning the names of the
            groups it belongs to.

    Raises:
        TypeError, ValueError: a mapping whose names or members are not non-empty strings
            (naming the group at fault).
    """

    __slots__ = ("_lookup", "_members")

    def __init__(self, members: Mapping[str, Iterable[str]] | Callable[[str], Iterable[str]]
                 ) -> None:
        self._members: dict[str, frozenset[str]] | None = None
        self._lookup: Callable[[str], Iterable[str]] | None = None
        if isinstance(members, Mapping):
            checked: dict[str, frozenset[str]] = {}
            for group, principals in members.items():
                if not isinstance(group, str) or not group:
                    raise ValueError(f"Group name {group!r} must be a non-empty string.")
                checked[group] = _names(f"The members of group {group!r}", principals)
            self._members = checked
        elif callable(members):
            self._lookup = members
        else:
            raise TypeError(f"Groups() takes a mapping of group -> principals or a callable "
                            f"principal -> groups, got {type(members).__name__}: {members!r}.")

    def of(self, principal: str) -> frozenset[str]:
        """The groups `principal` belongs to.

        Raises:
            TypeError, ValueError: the callable returned something other than names.
        """
        if self._lookup is None:
            members = self._members or {}
            return frozenset(g for g, names in members.items() if principal in names)
        return _names(f"The groups the callable gave for {principal!r}",
                      self._lookup(principal))

    def has(self, principal: str, group: str) -> bool:
        """Whether `principal` belongs to `group`."""
        if self._members is not None:
            return principal in self._members.get(group, ())
        return group in self.of(principal)

    def on(self, config: dict[str, Any]) -> dict[str, Any]:
        """A copy of `config` whose runs check answers against these groups."""
        return {**config, "configurable": {**config.get("configurable", {}), GROUPS_KEY: self}}

    def __repr__(self) -> str:
        if self._members is not None:
            return f"Groups({ {g: sorted(m) for g, m in self._members.items()} !r})"
        return f"Groups({self._lookup!r})"


def groups_in(config: Mapping[str, Any]) -> Groups | None:
    """The Groups a run's config carries (None: none).

    Raises:
        TypeError: something else is stored under GROUPS_KEY.
    """
    found = (config.get("configurable") or {}).get(GROUPS_KEY)
    if found is None or isinstance(found, Groups):
        return found
    raise TypeError(f"config['configurable'][{GROUPS_KEY!r}] must be a Groups "
                    f"(Groups(...).on(config)), got {type(found).__name__}: {found!r}.")


class NotInGroupError(AssignmentError, PermissionError):
    """`principal` is not a member of `group`, the group an interrupt is for, so they may not
    claim it."""

    def __init__(self, *, thread_id: str, interrupt_id: str, principal: str, group: str
                 ) -> None:
        self.principal = principal
        self.group = group
        super().__init__(
            f"{principal!r} cannot claim interrupt {interrupt_id!r} of thread {thread_id!r}: "
            f"it is for group {group!r}, and {principal!r} is not a member. Ask a member to "
            "claim it, or reassign it.", thread_id=thread_id, interrupt_id=interrupt_id)


ENTRY_PAGES: Final = 10
"""Pages of 100 a thread's open interrupts are searched through for one of them at most."""


def check_claim(item: PendingInterrupt, principal: str, groups: Groups | None) -> None:
    """Refuse a claim of an interrupt asked for a `group` by someone outside it (no Groups:
    no one can be shown to be in it).

    Raises:
        NotInGroupError: naming the principal and the group.
    """
    if item.group is not None and (groups is None or not groups.has(principal, item.group)):
        raise NotInGroupError(thread_id=item.thread_id, interrupt_id=item.interrupt_id,
                              principal=principal, group=item.group)


_PAGE: Final = 100

_Search = Generator[str | None, list[PendingInterrupt], PendingInterrupt]
"""A search for one open interrupt: yields the cursor of the page it wants next (None: the
first), is sent that page, returns the entry."""


def _search(thread_id: str, interrupt_id: str) -> _Search:
    """The search open_entry and aopen_entry drive, written once: only fetching a page
    differs between them."""
    after = None
    for _ in range(ENTRY_PAGES):
        page = yield after
        found = next((p for p in page if p.interrupt_id == interrupt_id), None)
        if found is not None:
            return found
        if len(page) < _PAGE:
            break
        after = page[-1].cursor
    raise InterruptNotOpenError(thread_id=thread_id, interrupt_id=interrupt_id)


def open_entry(saver: Any, thread_id: str, interrupt_id: str) -> PendingInterrupt:
    """The index entry of an open interrupt (`saver` is a PendingIndex).

    Raises:
        InterruptNotOpenError: the thread has no open interrupt of that id.
    """
    search = _search(thread_id, interrupt_id)
    try:
        after = next(search)
        while True:  # ends when the search returns or raises (ENTRY_PAGES pages at most)
            after = search.send(list(saver.list_pending(thread_id=thread_id, limit=_PAGE,
                                                        after=after)))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def aopen_entry(saver: Any, thread_id: str, interrupt_id: str) -> PendingInterrupt:
    """open_entry() over alist_pending()."""
    search = _search(thread_id, interrupt_id)
    try:
        after = next(search)
        while True:  # ends when the search returns or raises (ENTRY_PAGES pages at most)
            page = [p async for p in saver.alist_pending(thread_id=thread_id, limit=_PAGE,
                                                         after=after)]
            after = search.send(page)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def claim_in_group(saver: Any, thread_id: str, interrupt_id: str, principal: str,
                   groups: Groups | None, *, reason: str | None = None) -> Decision:
    """`saver.claim(...)`, refused when the interrupt is for a group `principal` is not in.
    The group an interrupt is for never changes while it is open, so the check and the
    claim need not share a transaction.

    Raises:
        NotInGroupError: `principal` is not a member of the interrupt's group.
        InterruptNotOpenError, InterruptHeldError: as saver.claim().
    """
    check_claim(open_entry(saver, thread_id, interrupt_id), principal, groups)
    found: Decision = saver.claim(thread_id, interrupt_id, principal, reason=reason)
    return found


async def aclaim_in_group(saver: Any, thread_id: str, interrupt_id: str, principal: str,
                          groups: Groups | None, *, reason: str | None = None) -> Decision:
    """claim_in_group() for asyncio programs."""
    check_claim(await aopen_entry(saver, thread_id, interrupt_id), principal, groups)
    found: Decision = await saver.aclaim(thread_id, interrupt_id, principal, reason=reason)
    return found
