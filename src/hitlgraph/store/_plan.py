"""A batch made ready to run: operations checked, puts merged per key (the last wins), and
the texts and queries to embed gathered, so the embedding calls (slow, maybe remote, maybe
async) happen once per batch and before any storage is touched."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hitlgraph.store._embed import Embedder, texts_to_embed
from hitlgraph.store._filter import check_filter
from hitlgraph.store._namespace import check_op
from hitlgraph.store._types import Op, PutOp, SearchOp

__all__ = ["Plan", "Vectors", "aembed", "embed", "plan"]

ItemKey = tuple[tuple[str, ...], str]


@dataclass(slots=True)
class Vectors:
    """Embeddings computed for a batch."""

    docs: dict[ItemKey, dict[str, list[float]]] = field(default_factory=dict)
    """Per written item: field name -> vector (an item indexed with no text has {})."""
    queries: dict[str, list[float]] = field(default_factory=dict)
    """Per search query text: its vector."""


@dataclass(slots=True)
class Plan:
    """What running a batch needs besides the storage itself."""

    ops: list[Op]
    puts: dict[ItemKey, PutOp]
    """The batch's writes, one per key: the last one given for it."""
    texts: list[tuple[ItemKey, str, str]]
    """(item, field name, text) to embed."""
    queries: list[str]


def plan(ops: Iterable[Op], embedder: Embedder | None) -> Plan:
    """Check `ops` and gather what to embed (nothing without an embedder)."""
    ops = list(ops)
    puts: dict[ItemKey, PutOp] = {}
    queries: list[str] = []
    for op in ops:
        check_op(op)
        if isinstance(op, PutOp):
            puts[(op.namespace, op.key)] = op
        elif isinstance(op, SearchOp):
            check_filter(op.filter)
            if op.query and embedder is not None and op.query not in queries:
                queries.append(op.query)
    texts: list[tuple[ItemKey, str, str]] = []
    if embedder is not None:
        for item_key, op in puts.items():
            texts.extend((item_key, name, text)
                         for name, text in texts_to_embed(op, embedder.fields))
    return Plan(ops, puts, texts, queries)


def _assemble(p: Plan, docs: list[list[float]], queries: list[list[float]]) -> Vectors:
    out = Vectors(queries=dict(zip(p.queries, queries, strict=True)))
    for item_key, op in p.puts.items():
        if op.value is not None and op.index is not False:
            out.docs[item_key] = {}
    for (item_key, name, _), vector in zip(p.texts, docs, strict=True):
        out.docs[item_key][name] = vector
    return out


def embed(p: Plan, embedder: Embedder | None) -> Vectors:
    """The plan's vectors, from a sync caller."""
    if embedder is None:
        return Vectors()
    docs = embedder.embed([t for _, _, t in p.texts]) if p.texts else []
    return _assemble(p, docs, [embedder.embed_query(q) for q in p.queries])


async def aembed(p: Plan, embedder: Embedder | None) -> Vectors:
    """The plan's vectors, from an async caller."""
    if embedder is None:
        return Vectors()
    docs = await embedder.aembed([t for _, _, t in p.texts]) if p.texts else []
    return _assemble(p, docs, [await embedder.aembed_query(q) for q in p.queries])
