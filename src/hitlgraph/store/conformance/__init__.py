"""The store contract, as checks any BaseStore can be run against.

Every store hitlgraph ships passes them (memory, SQLite, PostgreSQL, sync and async), and a
store of your own should too. A `Backend` says how to open a fresh, empty store with a given
index and TTL config, and which methods to call; each check runs in its own event loop, so
a store bound to a loop (an async PostgreSQL connection) is opened inside it. With pytest:

    import contextlib
    import pytest
    from hitlgraph.store import conformance

    @contextlib.asynccontextmanager
    async def open_mine(index, ttl):
        yield MyStore(index=index, ttl=ttl)

    MINE = conformance.Backend("mine", open_mine, mode="sync")

    @pytest.mark.parametrize("name", list(conformance.CHECKS))
    def test_my_store(name: str) -> None:
        if conformance.applies(MINE, name):
            conformance.run(MINE, name)

or, without a test runner, ``conformance.run_all(MINE)``. A failed check raises
AssertionError saying what differed.

What is checked: round trips of items (timestamps, created_at kept across updates, nested,
unicode and SQL-looking values); namespace rules; batches (results in order, reads before
writes, the last put to a key wins); search by prefix, by filter (equality as in Python and
the $eq, $ne, $gt, $gte, $lt, $lte operators) and in pages; list_namespaces with prefix,
suffix, wildcards, max_depth and pages; TTLs (expiry on read, refresh on read, default TTL,
sweep_ttl); and, for stores with an index, similarity ranking, scores and per-put index
choices. The TTL checks take a few seconds each (they wait in real time).
"""

from __future__ import annotations

from hitlgraph.store.conformance._calls import (
    EVIL as EVIL,
)
from hitlgraph.store.conformance._calls import (
    INDEX as INDEX,
)
from hitlgraph.store.conformance._calls import (
    Backend as Backend,
)
from hitlgraph.store.conformance._calls import (
    Calls as Calls,
)
from hitlgraph.store.conformance._calls import (
    Mode as Mode,
)
from hitlgraph.store.conformance._calls import (
    Opener as Opener,
)
from hitlgraph.store.conformance._calls import (
    embed_words as embed_words,
)
from hitlgraph.store.conformance._runner import (
    CHECKS as CHECKS,
)
from hitlgraph.store.conformance._runner import (
    Check as Check,
)
from hitlgraph.store.conformance._runner import (
    applies as applies,
)
from hitlgraph.store.conformance._runner import (
    run as run,
)
from hitlgraph.store.conformance._runner import (
    run_all as run_all,
)

__all__ = ["CHECKS", "EVIL", "INDEX", "Backend", "Calls", "Check", "Mode", "Opener",
           "applies", "embed_words", "run", "run_all"]
