"""Checks of similarity search, with INDEX (three words as dimensions, fields ["text"])."""

from __future__ import annotations

from hitlgraph.store.conformance._calls import Calls

__all__ = ["check_similarity_ranks_and_filters", "check_similarity_index_choices"]


async def check_similarity_ranks_and_filters(s: Calls) -> None:
    """A query ranks items by cosine similarity of their best vector, with a score; a
    filter and a prefix narrow the candidates; limit and offset page the ranking."""
    await s.put(("m", "u1"), "cat", {"text": "cat cat", "kind": "pet"})
    await s.put(("m", "u1"), "dog", {"text": "dog", "kind": "pet"})
    await s.put(("m", "u2"), "mix", {"text": "cat dog", "kind": "wild"})
    found = await s.search(("m",), query="cat")
    assert [i.key for i in found] == ["cat", "mix", "dog"], f"ranked {found!r}"
    scores = [i.score for i in found]
    assert scores[0] is not None and abs(scores[0] - 1.0) < 1e-6, f"scores {scores!r}"
    assert scores[2] is not None and abs(scores[2]) < 1e-6, f"scores {scores!r}"
    pets = await s.search(("m",), query="dog", filter={"kind": "pet"})
    assert [i.key for i in pets] == ["dog", "cat"], f"filtered ranking {pets!r}"
    assert [i.key for i in await s.search(("m", "u2"), query="dog")] == ["mix"]
    page = await s.search(("m",), query="cat", limit=1, offset=1)
    assert [i.key for i in page] == ["mix"], f"second page {page!r}"


async def check_similarity_index_choices(s: Calls) -> None:
    """put(index=False) stores an item unranked (listed after ranked ones, score None, or
    not found by a query: see Backend.query_finds_unindexed); put(index=[paths]) embeds
    those paths instead of the index's fields; a later put replaces an item's vectors; a
    search without query is unscored."""
    await s.put(("i",), "plain", {"text": "cat"})
    await s.put(("i",), "plain", {"text": "cat"}, index=False)
    await s.put(("i",), "other", {"text": "nothing", "title": "cat"}, index=["title"])
    await s.put(("i",), "list", {"text": "dog", "notes": ["fish", "cat fish"]},
                index=["notes[*]"])
    found = await s.search(("i",), query="cat")
    ranked = ["other", "list"]
    if s.query_finds_unindexed:
        assert [i.key for i in found] == [*ranked, "plain"], f"ranked {found!r}"
        assert found[2].score is None, f"an unindexed item has score {found[2].score!r}"
    else:
        assert [i.key for i in found] == ranked, f"ranked {found!r}"
    assert found[0].score is not None and found[0].score > 0.99, f"scores {found!r}"
    assert all(i.score is None for i in await s.search(("i",))), "scores without a query"
