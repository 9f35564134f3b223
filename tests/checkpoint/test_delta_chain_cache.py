"""ChainCache (a page of history read from stored deltas): every version of a chain reads back
as the list it was, in whatever order the page asks for them, and a chain's rows are fetched
and walked once for the whole page rather than once per checkpoint."""

from __future__ import annotations

from typing import Any

import ormsgpack
import pytest

from hitlgraph.checkpoint._delta import DELTA_TAG, ChainCache, DeltaEncoder

Typed = tuple[str, bytes]


def _stored_chain(length: int) -> tuple[dict[int, Typed], dict[int, list[str]]]:
    """The rows a saver stores for a list that gains one item per version (1..length), and
    the list at each version."""
    encoder = DeltaEncoder()
    rows: dict[int, Typed] = {}
    values: dict[int, list[str]] = {}
    for version in range(1, length + 1):
        values[version] = [f"item {i}" for i in range(version)]
        rows[version] = encoder.encode("key", version,
                                       ("msgpack", ormsgpack.packb(values[version])))
    assert sum(typed[0] == DELTA_TAG for typed in rows.values()) == length - 1
    return rows, values


class _Fetches:
    """A fetch that counts its calls and the rows it hands out."""

    def __init__(self, rows: dict[int, Typed]) -> None:
        self.rows, self.calls, self.handed = rows, 0, 0

    def __call__(self, channel: str, low: Any, high: Any) -> dict[int, Typed]:
        self.calls += 1
        found = {v: t for v, t in self.rows.items() if low <= v <= high}
        self.handed += len(found)
        return found


@pytest.mark.parametrize("order", ["newest first", "oldest first", "shuffled"])
def test_every_version_reads_back_whole_in_any_order(order: str) -> None:
    rows, values = _stored_chain(40)
    versions = sorted(rows, reverse=order == "newest first")
    if order == "shuffled":
        versions = versions[::7] + [v for v in versions if v % 7]
    cache = ChainCache(_Fetches(rows))
    for version in versions:
        assert ormsgpack.unpackb(cache.full("log", version, rows[version])[1]) == values[version]


def test_a_page_newest_first_fetches_the_chain_once() -> None:
    rows, values = _stored_chain(60)
    fetch = _Fetches(rows)
    cache = ChainCache(fetch)
    for version in range(60, 50, -1):
        assert ormsgpack.unpackb(cache.full("log", version, rows[version])[1]) == values[version]
    assert (fetch.calls, fetch.handed) == (1, 60)


def test_a_row_the_walk_fetched_is_at_hand() -> None:
    rows, _ = _stored_chain(5)
    cache = ChainCache(_Fetches(rows))
    assert cache.row("log", 3) is None
    cache.full("log", 5, rows[5])
    assert cache.row("log", 3) == rows[3]
    assert cache.row("other", 3) is None
