"""Checks of time-to-live: expiry on read, refresh on read, the default TTL, and the sweep.

They wait in real time (a few seconds in all): a TTL of 0.03 minutes is 1.8 seconds."""

from __future__ import annotations

import asyncio

from hitlgraph.store.base import TTLConfig
from hitlgraph.store.conformance._calls import Calls

__all__ = ["DEFAULT_TTL", "check_default_ttl", "check_ttl_expiry_and_refresh"]

TTL = 0.03
"""Minutes (1.8 s)."""
DEFAULT_TTL: TTLConfig = {"default_ttl": TTL, "refresh_on_read": True}
"""The TTL config check_default_ttl opens its store with."""


async def check_ttl_expiry_and_refresh(s: Calls) -> None:
    """An item with a TTL is read until it expires, then neither get, search nor
    list_namespaces shows it; a read restarts its TTL unless refresh_ttl=False; items
    without a TTL stay; sweep_ttl() deletes what expired."""
    await s.put(("t",), "refreshed", {"v": 1}, ttl=TTL)
    await s.put(("t",), "left", {"v": 2}, ttl=TTL)
    await s.put(("t", "gone"), "k", {"v": 3}, ttl=TTL)
    await s.put(("t",), "forever", {"v": 4}, ttl=None)
    await asyncio.sleep(1.1)
    assert await s.get(("t",), "refreshed") is not None, "an item expired early"
    assert await s.get(("t",), "left", refresh_ttl=False) is not None, "expired early"
    await asyncio.sleep(1.1)  # 2.2 s after the puts, 1.1 s after the refresh
    assert await s.get(("t",), "left") is None, "an expired item was read"
    assert await s.get(("t",), "refreshed", refresh_ttl=False) is not None, (
        "a read did not restart the item's TTL")
    found = sorted(i.key for i in await s.search(("t",)))
    assert found == ["forever", "refreshed"], f"search found {found!r}"
    namespaces = await s.list_namespaces()
    assert namespaces == [("t",)], f"listed {namespaces!r}"
    await asyncio.sleep(2.6)  # past the refresh that search() just made
    swept = await s.sweep_ttl()
    assert swept >= 1, f"sweep_ttl deleted {swept} items"
    assert [i.key for i in await s.search(("t",))] == ["forever"], "expired items remain"


async def check_default_ttl(s: Calls) -> None:
    """With ttl_config default_ttl, a put without ttl expires; ttl=None keeps an item."""
    await s.put(("d",), "default", {"v": 1})
    await s.put(("d",), "kept", {"v": 2}, ttl=None)
    await asyncio.sleep(2.2)
    assert await s.get(("d",), "default") is None, "default_ttl was not applied"
    assert await s.get(("d",), "kept") is not None, "ttl=None expired"
